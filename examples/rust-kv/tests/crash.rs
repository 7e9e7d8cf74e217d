//! Kill-during-write: writer processes (this test binary, spawned again) write a counter through
//! the journaled store while the test SIGKILLs them mid-write, in two waves. After each wave every
//! value must parse, hold at least what the journal says was written, and never move backwards
//! across waves. Each kill that landed on a live, progressing writer is faultline evidence.
use rust_kv::evidence::record_fault;
use rust_kv::kv::{journaled, read_value, Store};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const WRITERS: usize = 3;
const WAVES: usize = 2;
/// Journal lines each writer must add in a wave before it is killed: the kill lands mid-stream.
const PROGRESS: usize = 5;

/// Not a test of its own: the body of a writer process when KV_WRITER_DIR is set.
#[test]
fn writer_child() {
    let Ok(dir) = std::env::var("KV_WRITER_DIR") else { return };
    let mut store = Store::open(Path::new(&dir)).expect("open store");
    let mut next = store.get("counter").expect("stored counter parses").unwrap_or(0) + 1;
    loop {
        store.put("counter", next).expect("put");
        next += 1;
    }
}

fn spawn_writer(dir: &Path) -> Child {
    Command::new(std::env::current_exe().expect("own executable"))
        .args(["writer_child", "--exact", "--nocapture", "--test-threads=1"])
        .env("KV_WRITER_DIR", dir)
        // A sleep inside every write widens the window a kill can land in.
        .env("FAILPOINTS", "kv::mid_write=sleep(20)")
        .env_remove("FAULTLINE_EVIDENCE_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn writer")
}

fn wait_for_progress(dir: &Path, lines: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, now) = journaled(dir).expect("journal reads");
        if now >= lines {
            return now;
        }
        assert!(Instant::now() < deadline, "writer in {} made no progress: {now} of {lines} journal lines after 20 s", dir.display());
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn scratch() -> PathBuf {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let base = std::env::var("FAULTLINE_RUN_DIR").map(PathBuf::from).unwrap_or_else(|_| std::env::temp_dir());
    base.join(format!("rust-kv-{}-{nanos}", std::process::id()))
}

#[test]
fn kill_during_write() {
    let root = scratch();
    let dirs: Vec<PathBuf> = (0..WRITERS).map(|i| root.join(format!("w{i}"))).collect();
    let mut previous = vec![0u64; WRITERS];
    for wave in 0..WAVES {
        let baselines: Vec<usize> = dirs.iter().map(|d| journaled(d).map(|(_, n)| n).unwrap_or(0)).collect();
        let mut children: Vec<Child> = dirs.iter().map(|d| spawn_writer(d)).collect();
        for (i, child) in children.iter_mut().enumerate() {
            let line = wait_for_progress(&dirs[i], baselines[i] + PROGRESS);
            assert!(child.try_wait().expect("try_wait").is_none(), "writer {i} exited before the kill");
            let pid = child.id();
            child.kill().expect("SIGKILL");
            let status = child.wait().expect("reap writer");
            assert_eq!(status.signal(), Some(9), "writer {i} did not die by SIGKILL: {status:?}");
            record_fault(
                "kill_during_write",
                &["kv-torn-write", "kv-monotonic"],
                "kill",
                &format!("writer-{i}"),
                &format!("pid {pid} got SIGKILL after journal line {line} (wave {})", wave + 1),
                &[("wave", wave as i64 + 1), ("journalLine", line as i64)],
            );
        }
        for (i, dir) in dirs.iter().enumerate() {
            let stored = read_value(&dir.join("counter"))
                .unwrap_or_else(|e| panic!("wave {}: writer {i}: {e}", wave + 1))
                .unwrap_or_else(|| panic!("wave {}: writer {i} stored nothing", wave + 1));
            let (journal, _) = journaled(dir).expect("journal reads");
            let last = journal.get("counter").copied().unwrap_or(0);
            assert!(stored >= last, "wave {}: writer {i} stored {stored} < journaled {last}", wave + 1);
            assert!(stored >= previous[i], "wave {}: writer {i} moved backwards: {stored} < {}", wave + 1, previous[i]);
            previous[i] = stored;
        }
    }
    let _ = std::fs::remove_dir_all(&root);
}
