//! A journaled key-value store: each value lives in its own file, replaced atomically (write a
//! temporary file, fsync, rename, fsync the directory); a journal line is appended only after the
//! value is durable, so after any crash the stored value is at least the last journaled one.
//! `KV_BROKEN=1` (or the break `kv-in-place` in `FAULTLINE_BREAK`, set by `faultline verify`)
//! writes values in place instead (truncate, then write): the bug the crash test must catch.
use crate::failpoints::{eval, Hit};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub struct Store {
    dir: PathBuf,
    journal: File,
    broken: bool,
}

impl Store {
    pub fn open(dir: &Path) -> io::Result<Store> {
        fs::create_dir_all(dir)?;
        let journal = OpenOptions::new().create(true).append(true).open(dir.join("journal"))?;
        let broken = std::env::var("KV_BROKEN").as_deref() == Ok("1")
            || std::env::var("FAULTLINE_BREAK").is_ok_and(|v| v.split(',').any(|b| b.trim() == "kv-in-place"));
        Ok(Store { dir: dir.to_path_buf(), journal, broken })
    }

    /// The stored value of `key`: `Ok(None)` when absent, an error when the file is torn.
    pub fn get(&self, key: &str) -> io::Result<Option<u64>> {
        read_value(&self.dir.join(key))
    }

    pub fn put(&mut self, key: &str, value: u64) -> io::Result<()> {
        let text = format!("{key}={value};\n");
        let path = self.dir.join(key);
        if self.broken {
            let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&path)?;
            let (a, b) = text.as_bytes().split_at(text.len() / 2);
            f.write_all(a)?;
            if let Hit::Return(_) = eval("kv::mid_write") {
                return Err(io::Error::other("failpoint kv::mid_write"));
            }
            f.write_all(b)?;
        } else {
            let tmp = self.dir.join(format!(".{key}.tmp"));
            let mut f = File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            if let Hit::Return(_) = eval("kv::mid_write") {
                return Err(io::Error::other("failpoint kv::mid_write"));
            }
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()?;
        }
        writeln!(self.journal, "{key} {value}")?;
        self.journal.sync_data()
    }

    /// The last journaled value of every key, and how many journal lines there are.
    pub fn journaled(&self) -> io::Result<(std::collections::HashMap<String, u64>, usize)> {
        journaled(&self.dir)
    }
}

pub fn read_value(path: &Path) -> io::Result<Option<u64>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let torn = || io::Error::new(io::ErrorKind::InvalidData, format!("{} is torn: {text:?}", path.display()));
    let body = text.strip_suffix(";\n").ok_or_else(torn)?;
    let (_, value) = body.split_once('=').ok_or_else(torn)?;
    value.parse().map(Some).map_err(|_| torn())
}

pub fn journaled(dir: &Path) -> io::Result<(std::collections::HashMap<String, u64>, usize)> {
    let text = match fs::read_to_string(dir.join("journal")) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut last = std::collections::HashMap::new();
    let mut lines = 0;
    for line in text.lines() {
        // A line torn by the kill (no value yet) is not journaled.
        if let Some((k, v)) = line.split_once(' ') {
            if let Ok(v) = v.parse::<u64>() {
                last.insert(k.to_string(), v);
                lines += 1;
            }
        }
    }
    Ok((last, lines))
}
