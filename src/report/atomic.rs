//! Writing an output directory as a whole.
//!
//! Runs and sweeps write every file into a temporary sibling directory
//! which then replaces the target by renames, so an interrupted or failed
//! write never leaves a half-written `output/<name>/` (the output contract).
//!
//! Only an earlier forklab output (a directory holding one of
//! [`OUTPUT_MARKERS`]) or an empty directory is ever replaced:
//! [`check_replaceable`] refuses anything else before a run starts, and
//! [`write_dir_atomically`] checks again before it renames. A temporary
//! directory being filled is registered so that a process interrupted by a
//! signal can remove it ([`remove_unfinished`], called from the `sim`
//! binary's Ctrl-C / SIGTERM handler).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Files that mark a directory as a forklab output (a run's manifest, a
/// sweep's manifest); only such a directory, or an empty one, is replaced.
pub const OUTPUT_MARKERS: [&str; 2] = ["manifest.json", "sweep_manifest.json"];

/// Temporary directories being filled right now.
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Why an output directory may not be written.
fn refusal(out_dir: &Path) -> Option<String> {
    if out_dir.file_name().is_none() {
        return Some("names no directory of its own (use a path such as output/run1)".into());
    }
    match fs::symlink_metadata(out_dir) {
        Err(_) => None,
        Ok(m) if !m.is_dir() => Some("exists and is not a directory".into()),
        Ok(_) => {
            let marked = OUTPUT_MARKERS.iter().any(|f| out_dir.join(f).is_file());
            let empty = fs::read_dir(out_dir).is_ok_and(|mut d| d.next().is_none());
            (!marked && !empty).then(|| {
                format!(
                    "exists and is not a forklab output (it has no {}); \
                     choose another --out or remove it",
                    OUTPUT_MARKERS.join(" or ")
                )
            })
        }
    }
}

/// Checks that `out_dir` may be written: it does not exist yet, or it is an
/// empty directory or an earlier forklab output (which is replaced). A file,
/// a directory holding anything else, or a path without a last component
/// (`.`, `..`, `/`) is refused with a one-line reason.
pub fn check_replaceable(out_dir: &Path) -> Result<(), String> {
    match refusal(out_dir) {
        Some(why) => Err(format!("output directory {}: {why}", out_dir.display())),
        None => Ok(()),
    }
}

/// Removes every temporary output directory still being filled. For a
/// signal handler: the process is about to exit, so nothing half-written
/// may stay behind.
pub fn remove_unfinished() {
    let dirs = match UNFINISHED.lock() {
        Ok(mut d) => std::mem::take(&mut *d),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    remove_dirs(dirs);
}

fn remove_dirs(dirs: Vec<PathBuf>) {
    for dir in dirs {
        // The writer may still be adding files: retry a few times.
        for _ in 0..5 {
            if fs::remove_dir_all(&dir).is_ok() || !dir.exists() {
                break;
            }
        }
    }
}

fn register(tmp: &Path) {
    if let Ok(mut d) = UNFINISHED.lock() {
        d.push(tmp.to_path_buf());
    }
}

fn unregister(tmp: &Path) {
    if let Ok(mut d) = UNFINISHED.lock() {
        d.retain(|p| p != tmp);
    }
}

/// Fills a fresh temporary sibling of `out_dir` with `fill`, then moves it
/// into place (replacing a previous forklab output at `out_dir`; see
/// [`check_replaceable`], whose refusal is returned as an I/O error of kind
/// `AlreadyExists`). Returns every file in the new directory, sorted. On an
/// error the temporary directory is removed and `out_dir` is left as it
/// was. `io_err` turns an I/O failure on a path into the caller's error
/// type.
pub fn write_dir_atomically<E>(
    out_dir: &Path,
    io_err: impl Fn(&Path, io::Error) -> E,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<Vec<PathBuf>, E> {
    if let Some(why) = refusal(out_dir) {
        return Err(io_err(
            out_dir,
            io::Error::new(io::ErrorKind::AlreadyExists, why),
        ));
    }
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
    register(&tmp);
    let result = fill_and_swap(out_dir, parent, &leaf, &tmp, &io_err, fill);
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    unregister(&tmp);
    result?;
    let mut files = Vec::new();
    collect_files(out_dir, &mut files).map_err(|e| io_err(out_dir, e))?;
    files.sort();
    Ok(files)
}

fn fill_and_swap<E>(
    out_dir: &Path,
    parent: &Path,
    leaf: &str,
    tmp: &Path,
    io_err: &impl Fn(&Path, io::Error) -> E,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    fs::create_dir_all(tmp).map_err(|e| io_err(tmp, e))?;
    fill(tmp)?;
    let old = parent.join(format!(".{leaf}.old-{}", std::process::id()));
    let replacing = out_dir.exists();
    if replacing {
        fs::rename(out_dir, &old).map_err(|e| io_err(out_dir, e))?;
    }
    if let Err(e) = fs::rename(tmp, out_dir) {
        if replacing {
            // Put the previous output back.
            let _ = fs::rename(&old, out_dir);
        }
        return Err(io_err(out_dir, e));
    }
    if replacing {
        fs::remove_dir_all(&old).map_err(|e| io_err(&old, e))?;
    }
    Ok(())
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
            fs::write(d.join("manifest.json"), "{}").map_err(|e| e.to_string())?;
            fs::write(d.join("a.csv"), "x").map_err(|e| e.to_string())
        })
        .unwrap();
        assert_eq!(files, vec![out.join("a.csv"), out.join("manifest.json")]);
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

    #[test]
    fn refuses_to_replace_what_is_not_an_output() {
        let base = std::env::temp_dir().join(format!("forklab-refuse-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let io = |p: &Path, e: io::Error| format!("{}: {e}", p.display());
        let fill = |d: &Path| fs::write(d.join("manifest.json"), "{}").map_err(|e| e.to_string());

        // A directory of the user's: refused, untouched, no temp dir left.
        let mine = base.join("thesis");
        fs::create_dir_all(mine.join("sub")).unwrap();
        fs::write(mine.join("notes.txt"), "keep").unwrap();
        let e = check_replaceable(&mine).unwrap_err();
        assert!(e.contains("is not a forklab output"), "{e}");
        let e = write_dir_atomically(&mine, io, fill).unwrap_err();
        assert!(e.contains("is not a forklab output"), "{e}");
        assert_eq!(fs::read_to_string(mine.join("notes.txt")).unwrap(), "keep");
        assert_eq!(fs::read_dir(&base).unwrap().count(), 1);

        // A file: refused. `.` and `..`: refused.
        let file = base.join("afile");
        fs::write(&file, "x").unwrap();
        assert!(check_replaceable(&file)
            .unwrap_err()
            .contains("not a directory"));
        assert!(write_dir_atomically(&file, io, fill).is_err());
        assert_eq!(fs::read_to_string(&file).unwrap(), "x");
        assert!(check_replaceable(Path::new(".")).is_err());
        assert!(check_replaceable(Path::new("..")).is_err());

        // An empty directory, a missing one and an earlier output are fine.
        let empty = base.join("empty");
        fs::create_dir(&empty).unwrap();
        assert!(check_replaceable(&empty).is_ok());
        assert!(check_replaceable(&base.join("new")).is_ok());
        write_dir_atomically(&empty, io, fill).unwrap();
        assert!(check_replaceable(&empty).is_ok());
        write_dir_atomically(&empty, io, fill).unwrap();
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn unfinished_directories_are_registered_while_filled() {
        let base = std::env::temp_dir().join(format!("forklab-unfinished-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let out = base.join("run");
        let io = |p: &Path, e: io::Error| format!("{}: {e}", p.display());
        let mut seen = None;
        let r = write_dir_atomically(&out, io, |d| {
            fs::write(d.join("a.csv"), "x").unwrap();
            assert!(UNFINISHED.lock().unwrap().iter().any(|p| p == d));
            seen = Some(d.to_path_buf());
            Err("interrupted".to_string())
        });
        assert_eq!(r, Err("interrupted".to_string()));
        let tmp = seen.unwrap();
        assert!(!tmp.exists() && !out.exists());
        assert!(!UNFINISHED.lock().unwrap().contains(&tmp));
        // What the signal handler does with the registered directories.
        fs::create_dir_all(tmp.join("charts")).unwrap();
        fs::write(tmp.join("charts").join("x.svg"), "x").unwrap();
        remove_dirs(vec![tmp.clone()]);
        assert!(!tmp.exists());
        fs::remove_dir_all(&base).unwrap();
    }
}
