//! Failpoints configured by the `FAILPOINTS` variable in fail-rs's grammar:
//! `name=action;name2=action` where an action is `[P%][N*]task[(arg)]`, chained with `->`
//! (`20%3*return(x)->off`), and a task is `off`, `return`/`return(v)`, `panic`/`panic(msg)`,
//! `sleep(ms)`, `print`/`print(msg)`, `pause`, `yield` or `delay(ms)`.
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub enum Task {
    Off,
    Return(Option<String>),
    Panic(Option<String>),
    Sleep(u64),
    Print(Option<String>),
    Yield,
    Delay(u64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    /// Probability in percent that the action fires on a hit (100 when not given).
    pub percent: f64,
    /// How many more times it may fire (`N*`); `None`: unlimited.
    pub count: Option<u64>,
    pub task: Task,
}

/// Parses one failpoint's action list, e.g. `50%2*return(7)->sleep(10)->off`.
pub fn parse_actions(text: &str) -> Result<Vec<Action>, String> {
    text.split("->").map(|a| parse_action(a.trim())).collect()
}

fn parse_action(text: &str) -> Result<Action, String> {
    let mut rest = text;
    let mut percent = 100.0;
    if let Some(i) = rest.find('%') {
        percent = rest[..i].parse::<f64>().map_err(|_| format!("bad percentage in {text:?}"))?;
        if !(0.0..=100.0).contains(&percent) {
            return Err(format!("percentage out of 0..100 in {text:?}"));
        }
        rest = &rest[i + 1..];
    }
    let mut count = None;
    if let Some(i) = rest.find('*') {
        if rest[..i].chars().all(|c| c.is_ascii_digit()) && i > 0 {
            count = Some(rest[..i].parse::<u64>().map_err(|_| format!("bad count in {text:?}"))?);
            rest = &rest[i + 1..];
        }
    }
    let (name, arg) = match rest.find('(') {
        Some(i) if rest.ends_with(')') => (&rest[..i], Some(rest[i + 1..rest.len() - 1].to_string())),
        Some(_) => return Err(format!("unclosed ( in {text:?}")),
        None => (rest, None),
    };
    let ms = |arg: Option<String>| -> Result<u64, String> {
        arg.ok_or(format!("{name} needs milliseconds in {text:?}"))?
            .parse::<u64>()
            .map_err(|_| format!("bad milliseconds in {text:?}"))
    };
    let task = match name {
        "off" => Task::Off,
        "return" => Task::Return(arg),
        "panic" => Task::Panic(arg),
        "sleep" => Task::Sleep(ms(arg)?),
        "delay" => Task::Delay(ms(arg)?),
        "print" => Task::Print(arg),
        "yield" | "pause" => Task::Yield,
        other => return Err(format!("unknown task {other:?} in {text:?}")),
    };
    Ok(Action { percent, count, task })
}

/// Parses a whole `FAILPOINTS` value: `name=actions;name2=actions`.
pub fn parse(config: &str) -> Result<Vec<(String, Vec<Action>)>, String> {
    config
        .split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (name, actions) = pair.split_once('=').ok_or(format!("no '=' in {pair:?}"))?;
            Ok((name.trim().to_string(), parse_actions(actions.trim())?))
        })
        .collect()
}

struct Point {
    actions: Vec<Action>,
    fired: u64,
}

struct Registry {
    points: HashMap<String, Point>,
    rng: u64,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let config = std::env::var("FAILPOINTS").unwrap_or_default();
        let points = parse(&config)
            .unwrap_or_else(|e| panic!("FAILPOINTS: {e}"))
            .into_iter()
            .map(|(name, actions)| (name, Point { actions, fired: 0 }))
            .collect();
        // Seeded from faultline's run seed so probabilistic points replay.
        let seed = std::env::var("FAULTLINE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1u64);
        Mutex::new(Registry { points, rng: seed.wrapping_mul(6364136223846793005).wrapping_add(1) })
    })
}

/// What a hit of a failpoint asks the caller to do.
#[derive(Debug, PartialEq)]
pub enum Hit {
    /// Carry on (nothing fired, or the task was sleep/print/yield).
    Continue,
    /// Return early, with the value of `return(v)` if any.
    Return(Option<String>),
}

/// Evaluates failpoint `name`: runs the first action still live (count not used up, probability
/// drawn). `panic` panics here; `sleep` blocks here.
pub fn eval(name: &str) -> Hit {
    let task = {
        let mut reg = registry().lock().unwrap_or_else(|p| p.into_inner());
        let Registry { points, rng } = &mut *reg;
        let Some(point) = points.get_mut(name) else { return Hit::Continue };
        let mut chosen = None;
        for action in point.actions.iter_mut() {
            if action.count == Some(0) {
                continue;
            }
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            if action.percent < 100.0 && (*rng % 10_000) as f64 >= action.percent * 100.0 {
                break;
            }
            if let Some(c) = action.count.as_mut() {
                *c -= 1;
            }
            chosen = Some(action.task.clone());
            break;
        }
        if chosen.as_ref().is_some_and(|t| *t != Task::Off) {
            point.fired += 1;
        }
        chosen
    };
    match task {
        None | Some(Task::Off) => Hit::Continue,
        Some(Task::Return(v)) => Hit::Return(v),
        Some(Task::Panic(msg)) => panic!("failpoint {name} panic: {}", msg.unwrap_or_default()),
        Some(Task::Sleep(ms)) | Some(Task::Delay(ms)) => {
            std::thread::sleep(Duration::from_millis(ms));
            Hit::Continue
        }
        Some(Task::Print(msg)) => {
            eprintln!("failpoint {name}: {}", msg.unwrap_or_default());
            Hit::Continue
        }
        Some(Task::Yield) => {
            std::thread::yield_now();
            Hit::Continue
        }
    }
}

/// How many times failpoint `name` fired an action other than `off` in this process.
pub fn fired(name: &str) -> u64 {
    let reg = registry().lock().unwrap_or_else(|p| p.into_inner());
    reg.points.get(name).map_or(0, |p| p.fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_fail_rs_grammar() {
        let points = parse("a=off;b=2*return(7)->sleep(10)->off; c=25%panic(boom)").unwrap();
        assert_eq!(points[0], ("a".to_string(), vec![Action { percent: 100.0, count: None, task: Task::Off }]));
        assert_eq!(
            points[1].1,
            vec![
                Action { percent: 100.0, count: Some(2), task: Task::Return(Some("7".into())) },
                Action { percent: 100.0, count: None, task: Task::Sleep(10) },
                Action { percent: 100.0, count: None, task: Task::Off },
            ]
        );
        assert_eq!(points[2].1, vec![Action { percent: 25.0, count: None, task: Task::Panic(Some("boom".into())) }]);
        assert_eq!(parse_actions("return").unwrap()[0].task, Task::Return(None));
    }

    #[test]
    fn rejects_bad_actions() {
        assert!(parse("a").is_err());
        assert!(parse_actions("explode").is_err());
        assert!(parse_actions("sleep").is_err());
        assert!(parse_actions("150%off").is_err());
        assert!(parse_actions("return(7").is_err());
    }
}
