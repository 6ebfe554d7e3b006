//! Writing an output directory as a whole.
//!
//! Runs and sweeps write every file into a temporary sibling directory
//! which then replaces the target by renames, so an interrupted or failed
//! write never leaves a half-written `output/<name>/` (the output contract).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Fills a fresh temporary sibling of `out_dir` with `fill`, then moves it
/// into place (replacing any previous `out_dir`). Returns every file in the
/// new directory, sorted. On an error from `fill` the temporary directory is
/// removed and `out_dir` is left as it was. `io_err` turns an I/O failure on
/// a path into the caller's error type.
pub fn write_dir_atomically<E>(
    out_dir: &Path,
    io_err: impl Fn(&Path, io::Error) -> E,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<Vec<PathBuf>, E> {
    let parent = out_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    let leaf = out_dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = parent.join(format!(".{leaf}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
    }
    fs::create_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
    if let Err(e) = fill(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let old = parent.join(format!(".{leaf}.old-{}", std::process::id()));
    if out_dir.exists() {
        fs::rename(out_dir, &old).map_err(|e| io_err(out_dir, e))?;
    }
    fs::rename(&tmp, out_dir).map_err(|e| io_err(out_dir, e))?;
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| io_err(&old, e))?;
    }
    let mut files = Vec::new();
    collect_files(out_dir, &mut files).map_err(|e| io_err(out_dir, e))?;
    files.sort();
    Ok(files)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect_files(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_directory_or_nothing() {
        let base = std::env::temp_dir().join(format!("forklab-atomic-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let out = base.join("run");
        let io = |p: &Path, e: io::Error| format!("{}: {e}", p.display());
        let files = write_dir_atomically(&out, io, |d| {
            fs::write(d.join("a.csv"), "x").map_err(|e| e.to_string())
        })
        .unwrap();
        assert_eq!(files, vec![out.join("a.csv")]);
        // A failing fill leaves the previous directory untouched and no temp dir.
        let err = write_dir_atomically(&out, io, |d| {
            fs::write(d.join("b.csv"), "y").unwrap();
            Err("boom".to_string())
        });
        assert_eq!(err, Err("boom".to_string()));
        assert!(out.join("a.csv").exists() && !out.join("b.csv").exists());
        assert_eq!(fs::read_dir(&base).unwrap().count(), 1);
        // A second success replaces the old contents.
        write_dir_atomically(&out, io, |d| {
            fs::write(d.join("c.csv"), "z").map_err(|e| e.to_string())
        })
        .unwrap();
        assert!(!out.join("a.csv").exists() && out.join("c.csv").exists());
        fs::remove_dir_all(&base).unwrap();
    }
}
