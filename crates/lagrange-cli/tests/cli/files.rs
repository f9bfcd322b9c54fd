//! Output files are never damaged: devices, FIFOs and symbolic links as targets, `--out -`,
//! no temporary file left after SIGINT/SIGTERM, and sizes refused before they are allocated.

use super::*;
use std::fs;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

const RUN: [&str; 5] = ["pendulum", "--t-end", "1", "--dt", "0.1"];

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[cfg(unix)]
fn is_char_device(path: &str) -> bool {
    use std::os::unix::fs::FileTypeExt;
    fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_char_device()
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

#[cfg(unix)]
fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    fs::symlink_metadata(path).unwrap().file_type().is_fifo()
}

/// Waits for `child` up to `limit`; kills it (and fails) past that.
fn wait(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not end within {limit:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `cat FIFO` in the background: what the command writes into the FIFO. Its output is read
/// as it comes (a full pipe would block `cat`, then the writer).
#[cfg(unix)]
fn read_fifo(fifo: &Path) -> std::thread::JoinHandle<Vec<u8>> {
    let fifo = fifo.to_path_buf();
    std::thread::spawn(move || {
        std::process::Command::new("cat")
            .arg(&fifo)
            .output()
            .expect("cat runs")
            .stdout
    })
}

#[cfg(unix)]
fn fifo_bytes(reader: std::thread::JoinHandle<Vec<u8>>) -> Vec<u8> {
    reader.join().expect("reader thread")
}

#[cfg(unix)]
#[test]
fn dev_null_stays_a_device() {
    // As root, a temp + rename onto /dev/null used to replace the device with a regular file.
    assert!(is_char_device("/dev/null"));
    ok(lagrange()
        .arg("simulate")
        .args(RUN)
        .args(["--out", "/dev/null"]));
    assert!(is_char_device("/dev/null"));
    ok(lagrange().args([
        "generate",
        "pendulum",
        "--samples",
        "20",
        "--out",
        "/dev/null",
    ]));
    assert!(is_char_device("/dev/null"));
    // nothing was left in the temp folder either
    let tmp = TempDir::new().unwrap();
    ok(lagrange()
        .env("TMPDIR", tmp.path())
        .arg("simulate")
        .args(RUN)
        .args(["--out", "/dev/null", "--format", "npy"]));
    assert_eq!(names(tmp.path()), Vec::<String>::new());
    assert!(is_char_device("/dev/null"));
}

#[cfg(unix)]
#[test]
fn fifos_are_written_through_and_stay_fifos() {
    let dir = TempDir::new().unwrap();
    let csv = dir.path().join("traj.csv");
    mkfifo(&csv);
    let reader = read_fifo(&csv);
    ok(lagrange().arg("simulate").args(RUN).arg("--out").arg(&csv));
    let text = String::from_utf8(fifo_bytes(reader)).unwrap();
    let (header, rows) = parse_csv(&text);
    assert_eq!(header, ["t", "theta", "theta_dot", "energy"]);
    assert_eq!(rows.len(), 11);
    assert!(is_fifo(&csv));

    let png = dir.path().join("plot.png");
    mkfifo(&png);
    let reader = read_fifo(&png);
    ok(lagrange().arg("simulate").args(RUN).arg("--plot").arg(&png));
    let bytes = fifo_bytes(reader);
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} bytes",
        bytes.len()
    );
    assert!(is_fifo(&png));
    assert_eq!(names(dir.path()), ["plot.png", "traj.csv"]);
}

#[cfg(unix)]
#[test]
fn symbolic_links() {
    use std::os::unix::fs::symlink;
    let dir = TempDir::new().unwrap();
    // a link to a file: the file is replaced, the link stays a link
    let real = dir.path().join("real.csv");
    fs::write(&real, "old").unwrap();
    let link = dir.path().join("link.csv");
    symlink(&real, &link).unwrap();
    ok(lagrange().arg("simulate").args(RUN).arg("--out").arg(&link));
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(fs::read_to_string(&real).unwrap().starts_with("t,theta,"));
    // a link to /dev/null: written through, both stay as they were
    let null = dir.path().join("null.csv");
    symlink("/dev/null", &null).unwrap();
    ok(lagrange().arg("simulate").args(RUN).arg("--out").arg(&null));
    assert!(fs::symlink_metadata(&null).unwrap().is_symlink());
    assert!(is_char_device("/dev/null"));
    // a link to nothing: refused, and nothing is created
    let dangling = dir.path().join("dangling.png");
    symlink(dir.path().join("missing.png"), &dangling).unwrap();
    let before = names(dir.path());
    let line = fails(
        lagrange()
            .arg("simulate")
            .args(RUN)
            .arg("--plot")
            .arg(&dangling),
    );
    assert!(
        line.contains("dangling.png") && line.contains("does not exist"),
        "{line}"
    );
    assert_eq!(names(dir.path()), before);
    // a link to a folder
    let folder = dir.path().join("folder.csv");
    symlink(dir.path(), &folder).unwrap();
    let line = fails(
        lagrange()
            .arg("simulate")
            .args(RUN)
            .arg("--out")
            .arg(&folder),
    );
    assert!(line.contains("directory"), "{line}");
}

#[test]
fn out_dash_is_stdout_for_generate_and_learn() {
    let dir = TempDir::new().unwrap();
    let text = ok(lagrange().current_dir(dir.path()).args([
        "generate",
        "pendulum",
        "--samples",
        "30",
        "--out",
        "-",
    ]));
    let (header, rows) = parse_csv(&text);
    assert_eq!(header, ["theta", "theta_dot", "theta_ddot"]);
    assert_eq!(rows.len(), 30);
    // pendulum (m = l = 1, g = 9.81): θ̈ = −(g/l) sin θ
    for row in &rows {
        assert!((row[2] + 9.81 * row[0].sin()).abs() < 1e-9, "{row:?}");
    }
    let data = write(dir.path(), "data.csv", &text);
    let model = write(
        dir.path(),
        "model.toml",
        "coordinates = [\"theta\"]\nlagrangian = \"0.5*theta_dot^2 + g*cos(theta)\"\n[parameters]\ng = 1.0\n",
    );
    let json = ok(lagrange().current_dir(dir.path()).args([
        "learn", "--data", &data, "--model", &model, "--out", "-", "-q",
    ]));
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON on stdout");
    let g = value["parameters"]["g"].as_f64().unwrap();
    assert!((g - 9.81).abs() < 1e-6, "{g}");
    assert_eq!(names(dir.path()), ["data.csv", "model.toml"]);
}

/// Starts `simulate` with a plot into a FIFO nobody reads, so that it blocks while its
/// temporary files exist; sends `signal`; checks the exit status and that no temporary file is
/// left, beside the outputs or in the temp folder.
#[cfg(unix)]
fn interrupted(signal: &str, code: i32) {
    let dir = TempDir::new().unwrap();
    let tmp = TempDir::new().unwrap();
    let fifo = dir.path().join("plot.png");
    mkfifo(&fifo);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lagrange"))
        .env("TMPDIR", tmp.path())
        .arg("simulate")
        .args(RUN)
        .arg("--out")
        .arg(dir.path().join("traj.csv"))
        .arg("--plot")
        .arg(&fifo)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let temps = |dir: &Path| -> Vec<String> {
        names(dir)
            .into_iter()
            .filter(|n| n.contains(".tmp"))
            .collect()
    };
    let start = Instant::now();
    while temps(tmp.path()).is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "ended before writing the plot"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "no temp file");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = wait(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(code), "{status:?}");
    assert_eq!(temps(tmp.path()), Vec::<String>::new());
    assert_eq!(temps(dir.path()), Vec::<String>::new());
    assert!(is_fifo(&fifo));
}

#[cfg(unix)]
#[test]
fn no_temporary_file_after_sigterm() {
    interrupted("-TERM", 143);
}

#[cfg(unix)]
#[test]
fn no_temporary_file_after_sigint() {
    interrupted("-INT", 130);
}

/// A failure that must come at once, before any large allocation: one `error:` line naming
/// `needle`, no file.
fn refused(args: &[&str], needle: &str) {
    let dir = TempDir::new().unwrap();
    let start = Instant::now();
    let line = fails(lagrange().current_dir(dir.path()).args(args));
    assert!(
        line.contains(needle) && line.contains("memory"),
        "{args:?}: {line}"
    );
    assert!(start.elapsed() < Duration::from_secs(20), "{args:?}");
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn sizes_that_cannot_fit_are_refused_before_allocating() {
    refused(
        &[
            "generate",
            "pendulum",
            "--samples",
            "100000000000",
            "--out",
            "d.csv",
        ],
        "--samples",
    );
    refused(
        &[
            "noise-sweep",
            "harmonic-oscillator",
            "--samples",
            "100000000000",
            "--out",
            "s.csv",
        ],
        "--samples",
    );
    refused(
        &[
            "noise-sweep",
            "harmonic-oscillator",
            "--repeats",
            "1000000000000",
            "--samples",
            "100",
            "--out",
            "s.csv",
        ],
        "--repeats",
    );
    let data_dir = TempDir::new().unwrap();
    let data = data_dir.path().join("d.csv");
    ok(lagrange()
        .args(["generate", "pendulum", "--samples", "100", "--out"])
        .arg(&data));
    let model = write(
        data_dir.path(),
        "m.toml",
        "coordinates = [\"theta\"]\nlagrangian = \"0.5*m*theta_dot^2 + g*cos(theta)\"\n[parameters]\nm = 1.0\ng = 1.0\n",
    );
    let data = data.to_string_lossy().into_owned();
    refused(
        &[
            "learn",
            "--data",
            &data,
            "--model",
            &model,
            "--starts",
            "1000000000000",
            "--out",
            "r.json",
        ],
        "--starts",
    );
    refused(
        &[
            "landscape",
            "--data",
            &data,
            "--model",
            &model,
            "--grid",
            "m=0.1:2:10000",
            "--grid",
            "g=1:20:10000",
            "--out",
            "l.csv",
        ],
        "--grid",
    );
}
