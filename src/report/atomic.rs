//! Writing an output directory as a whole.
//!
//! Runs and sweeps write every file into a temporary sibling directory
//! which then replaces the target by renames, so an interrupted or failed
//! write never leaves a half-written `output/<name>/` (the output contract).
//!
//! Only an earlier forklab output (a directory holding one of
//! [`OUTPUT_MARKERS`]) or an empty directory is ever replaced:
//! [`check_replaceable`] refuses anything else before a run starts, and
//! [`write_dir_atomically`] checks again before it renames. A process
//! interrupted by a signal first waits for a write in progress to finish
//! ([`stop_writes`], called from the `sim` binary's Ctrl-C / SIGTERM
//! handler, which then exits), so the output is either complete or absent.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::rows::MANIFEST_JSON;
use super::sweep_charts::{SHARD_MANIFEST, SWEEP_MANIFEST};

/// Files that mark a directory as a forklab output (a run's manifest, a
/// sweep's manifest, a sweep shard's manifest, each a JSON object with a
/// `forklab_version` key); only such a directory, or an empty one, is
/// replaced.
pub const OUTPUT_MARKERS: [&str; 3] = [MANIFEST_JSON, SWEEP_MANIFEST, SHARD_MANIFEST];

/// Held while an output directory is written (filled and swapped in).
static WRITING: Mutex<()> = Mutex::new(());

/// Whether `file` is a forklab manifest (JSON with `forklab_version`).
fn is_forklab_manifest(file: &Path) -> bool {
    fs::read(file)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("forklab_version").is_some())
}

/// Why an output directory may not be written.
fn refusal(out_dir: &Path) -> Option<String> {
    // `prev/.` has a file name (`prev`) once normalised, but cannot be
    // renamed into place: refuse any path whose last part is `.` or `..`.
    let last = out_dir.as_os_str().to_string_lossy();
    let last = last.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    if out_dir.file_name().is_none() || last == "." || last == ".." {
        return Some("names no directory of its own (use a path such as output/run1)".into());
    }
    match fs::symlink_metadata(out_dir) {
        Err(_) => None,
        Ok(m) if m.file_type().is_symlink() => {
            Some("is a symbolic link (give the directory it points to)".into())
        }
        Ok(m) if !m.is_dir() => Some("exists and is not a directory".into()),
        Ok(_) => {
            let marked = OUTPUT_MARKERS
                .iter()
                .any(|f| is_forklab_manifest(&out_dir.join(f)));
            let empty = fs::read_dir(out_dir).is_ok_and(|mut d| d.next().is_none());
            (!marked && !empty).then(|| {
                format!(
                    "exists and is not a forklab output (it has no forklab {}); \
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
///
/// It also checks, without leaving anything behind, that the directory
/// could be created: the nearest existing ancestor must be a directory in
/// which a directory can be made (a read-only file system, `--out
/// afile/run` or a directory without write permission are refused here,
/// before a run, rather than after it).
pub fn check_replaceable(out_dir: &Path) -> Result<(), String> {
    let why = refusal(out_dir).or_else(|| unwritable(out_dir));
    match why {
        Some(why) => Err(format!("output directory {}: {why}", out_dir.display())),
        None => Ok(()),
    }
}

/// Why `out_dir` could not be created or replaced, probing its nearest
/// existing ancestor by making (and removing) an empty directory in it.
fn unwritable(out_dir: &Path) -> Option<String> {
    let parent = parent_of(out_dir);
    let mut existing = parent;
    loop {
        match fs::metadata(existing) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Some(format!(
                    "{} is not a directory, so nothing can be created under it",
                    existing.display()
                ))
            }
            Err(_) => match existing.parent() {
                Some(p) if !p.as_os_str().is_empty() => existing = p,
                _ => {
                    existing = Path::new(".");
                    break;
                }
            },
        }
    }
    let probe = existing.join(format!(".forklab-probe-{}", std::process::id()));
    match fs::create_dir(&probe) {
        Ok(()) => {
            let _ = fs::remove_dir(&probe);
            None
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => None,
        Err(e) => Some(format!(
            "cannot be written: {} refuses a new directory ({e})",
            existing.display()
        )),
    }
}

/// The directory that holds `out_dir` (`.` for a bare name).
fn parent_of(out_dir: &Path) -> &Path {
    out_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Removes what an earlier process killed mid-write left beside `out_dir`:
/// directories named `.<name>.tmp-<pid>` or `.<name>.old-<pid>` (the names
/// [`write_dir_atomically`] uses) whose process no longer runs (no
/// `/proc/<pid>`). Nothing else is touched: not another name's leftovers,
/// not a live process's, not a symbolic link, and nothing at all where
/// `/proc` is not available. Returns the directories removed.
pub fn remove_stale(out_dir: &Path) -> Vec<PathBuf> {
    let Some(leaf) = out_dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
    else {
        return Vec::new();
    };
    let parent = parent_of(out_dir);
    if !Path::new("/proc/self").exists() {
        return Vec::new();
    }
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = [".tmp-", ".old-"].iter().find_map(|kind| {
            name.strip_prefix(&format!(".{leaf}{kind}"))
                .filter(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|pid| pid.parse::<u32>().ok())
        }) else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let alive = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
        if is_dir && !alive && fs::remove_dir_all(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed.sort();
    removed
}

/// Proof that no output directory is being written, and that none will
/// start while this lives (see [`stop_writes`]).
#[must_use = "writes resume when this is dropped"]
pub struct WritesStopped {
    _writing: MutexGuard<'static, ()>,
}

/// Waits for an output directory being written to be complete, then keeps
/// any other write from starting while the returned guard lives. For a
/// signal handler that then exits the process: whatever it interrupted,
/// an output directory is either complete or absent, never half-written.
pub fn stop_writes() -> WritesStopped {
    WritesStopped {
        _writing: WRITING.lock().unwrap_or_else(PoisonError::into_inner),
    }
}

/// Fills a fresh temporary sibling of `out_dir` with `fill`, then moves it
/// into place (replacing a previous forklab output at `out_dir`; see
/// [`check_replaceable`], whose refusal is returned as an I/O error of kind
/// `AlreadyExists`). Returns every file in the new directory, sorted. On an
/// error in `fill` or in moving the new directory into place, the
/// temporary directory is removed and `out_dir` is left as it was (if only
/// removing the replaced output fails, the new one is in place and the old
/// one is left as `.<name>.old-<pid>` beside it). `io_err` turns an I/O
/// failure on a path into the caller's error type. Writes in one process
/// happen one at a time ([`stop_writes`]).
pub fn write_dir_atomically<E>(
    out_dir: &Path,
    io_err: impl Fn(&Path, io::Error) -> E,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<Vec<PathBuf>, E> {
    let _writing = WRITING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(why) = refusal(out_dir) {
        return Err(io_err(
            out_dir,
            io::Error::new(io::ErrorKind::AlreadyExists, why),
        ));
    }
    let parent = parent_of(out_dir);
    fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    let leaf = out_dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = parent.join(format!(".{leaf}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
    }
    let result = fill_and_swap(out_dir, parent, &leaf, &tmp, &io_err, fill);
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
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

    const MANIFEST: &str = r#"{"forklab_version": "0.1.0"}"#;

    #[test]
    fn replaces_whole_directory_or_nothing() {
        let base = std::env::temp_dir().join(format!("forklab-atomic-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let out = base.join("run");
        let io = |p: &Path, e: io::Error| format!("{}: {e}", p.display());
        let files = write_dir_atomically(&out, io, |d| {
            fs::write(d.join("manifest.json"), MANIFEST).map_err(|e| e.to_string())?;
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
        let fill =
            |d: &Path| fs::write(d.join("manifest.json"), MANIFEST).map_err(|e| e.to_string());

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

        // Another program's manifest.json does not make a forklab output.
        let webapp = base.join("webapp");
        fs::create_dir(&webapp).unwrap();
        fs::write(webapp.join("manifest.json"), r#"{"name": "x"}"#).unwrap();
        fs::write(webapp.join("popup.js"), "").unwrap();
        assert!(check_replaceable(&webapp).is_err());
        assert!(write_dir_atomically(&webapp, io, fill).is_err());
        assert!(webapp.join("popup.js").exists());
        fs::remove_dir_all(&webapp).unwrap();

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
        // A link, even to an earlier output, is refused by name.
        #[cfg(unix)]
        {
            let link = base.join("link");
            std::os::unix::fs::symlink(&empty, &link).unwrap();
            assert!(check_replaceable(&link)
                .unwrap_err()
                .contains("symbolic link"));
        }
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn refuses_unwritable_places_before_anything_runs() {
        let base = std::env::temp_dir().join(format!("forklab-unwritable-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).unwrap();
        fs::write(base.join("afile"), "x").unwrap();
        let e = check_replaceable(&base.join("afile/run")).unwrap_err();
        assert!(e.contains("is not a directory"), "{e}");
        let e = check_replaceable(&base.join("afile/deeper/run")).unwrap_err();
        assert!(e.contains("is not a directory"), "{e}");
        fs::create_dir(base.join("prev")).unwrap();
        for dot in ["prev/.", "prev/..", "prev/./"] {
            let e = check_replaceable(&base.join(dot)).unwrap_err();
            assert!(e.contains("names no directory"), "{dot}: {e}");
        }
        // A missing parent chain under a writable directory is fine, and
        // the check creates nothing.
        check_replaceable(&base.join("new/deeper/run")).unwrap();
        assert!(!base.join("new").exists());
        let mut names: Vec<_> = fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["afile", "prev"]);
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn removes_only_dead_processes_leftovers_of_this_name() {
        let base = std::env::temp_dir().join(format!("forklab-stale-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).unwrap();
        // A pid far above any pid_max in use is a process that is gone.
        let dead = 4_000_000_000u32;
        let me = std::process::id();
        for name in [
            format!(".run.tmp-{dead}"),
            format!(".run.old-{dead}"),
            format!(".run.tmp-{me}"),
            format!(".other.tmp-{dead}"),
            format!(".run.tmp-{dead}x"),
            ".run.tmp-".to_string(),
        ] {
            fs::create_dir(base.join(&name)).unwrap();
            fs::write(base.join(&name).join("f"), "x").unwrap();
        }
        fs::write(base.join(format!(".run.old-{}", dead - 1)), "a file").unwrap();
        let removed = remove_stale(&base.join("run"));
        if !Path::new("/proc/self").exists() {
            assert!(removed.is_empty());
            return;
        }
        assert_eq!(
            removed,
            vec![
                base.join(format!(".run.old-{dead}")),
                base.join(format!(".run.tmp-{dead}"))
            ]
        );
        let left = fs::read_dir(&base).unwrap().count();
        assert_eq!(left, 5);
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn stop_writes_waits_for_a_write_in_progress() {
        let base = std::env::temp_dir().join(format!("forklab-stop-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let out = base.join("run");
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let writer = {
            let out = out.clone();
            std::thread::spawn(move || {
                let io = |p: &Path, e: io::Error| format!("{}: {e}", p.display());
                write_dir_atomically(&out, io, |d| {
                    fs::write(d.join("manifest.json"), "{}").unwrap();
                    started_tx.send(()).unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    fs::write(d.join("last.csv"), "x").map_err(|e| e.to_string())
                })
            })
        };
        started_rx.recv().unwrap();
        // What the signal handler does: once it holds the guard, the write
        // it interrupted is complete, and no temporary directory is left.
        let stopped = stop_writes();
        assert!(out.join("manifest.json").is_file() && out.join("last.csv").is_file());
        assert_eq!(fs::read_dir(&base).unwrap().count(), 1);
        drop(stopped);
        writer.join().unwrap().unwrap();
        fs::remove_dir_all(&base).unwrap();
    }
}
