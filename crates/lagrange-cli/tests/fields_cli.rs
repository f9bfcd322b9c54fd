//! Lattice fields through the binary, as users run them: the example files, NPY by default,
//! the CSV header, `--every`, the kymograph, `--threads`, a lattice of 10⁵ sites compiled, the
//! particle radiating into a string with its energy column conserved, and bad field files.
use assert_cmd::Command;
use std::f64::consts::PI;
use std::fs;
use std::path::{Path, PathBuf};

fn lagrange() -> Command {
    Command::cargo_bin("lagrange").unwrap()
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}.toml"))
}

fn run(args: &[&str]) -> std::process::Output {
    let out = lagrange().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The shape and the little-endian f64 data of an NPY file (version 1.0, C order).
fn read_npy(path: &Path) -> ((usize, usize), Vec<f64>) {
    let bytes = fs::read(path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY", "not NPY");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'descr': '<f8'") && header.contains("'fortran_order': False"));
    let shape = header.split("'shape': (").nth(1).unwrap();
    let dims: Vec<usize> = shape
        .split(')')
        .next()
        .unwrap()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let data = bytes[10 + header_len..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    ((dims[0], dims[1]), data)
}

#[test]
fn field_trajectories_are_npy_by_default_with_the_csv_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kink");
    let path = example("sine-gordon");
    run(&[
        "simulate",
        path.to_str().unwrap(),
        "--t-end",
        "2",
        "--dt",
        "0.5",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    let ((rows, cols), data) = read_npy(&out);
    // t, 2048 values, 2048 velocities, energy
    assert_eq!((rows, cols), (5, 1 + 2 * 2048 + 1));
    let energy: Vec<f64> = (0..rows).map(|r| data[r * cols + cols - 1]).collect();
    // the kink's energy is 8γ = 8/√0.75 in the continuum; dopri5 keeps the lattice's
    assert!(
        (energy[0] - 8.0 / 0.75_f64.sqrt()).abs() < 0.05,
        "{energy:?}"
    );
    assert!(
        energy
            .iter()
            .all(|e| (e - energy[0]).abs() < 1e-6 * energy[0])
    );

    // --format csv: t,phi_0,…,phi_0_dot,…,energy; --every 2 keeps rows 0, 2, 4
    let csv = run(&[
        "simulate",
        path.to_str().unwrap(),
        "--t-end",
        "2",
        "--dt",
        "0.5",
        "--every",
        "2",
        "-o",
        "-",
        "--format",
        "csv",
        "-q",
    ]);
    let text = String::from_utf8(csv.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.len(), 1 + 2 * 2048 + 1);
    assert_eq!(&header[..3], ["t", "phi_0", "phi_1"]);
    assert_eq!(header[2048], "phi_2047");
    assert_eq!(header[2049], "phi_0_dot");
    assert_eq!(header[4097], "energy");
    let t: Vec<f64> = lines
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(t, [0.0, 1.0, 2.0]);
}

#[test]
fn two_dimensional_fields_name_sites_i_j_and_plot_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("plate.toml");
    fs::write(
        &toml,
        "[field]\nnames = [\"u\"]\nsites = [30, 20]\nspacing = 0.1\nboundary = \"fixed\"\ndensity = \"0.5*u_t^2 - 0.5*(u_x^2 + u_y^2)\"\n[initial]\nu = \"exp(-((x - 1.5)^2 + (y - 1)^2)/0.05)\"\n",
    )
    .unwrap();
    let (csv, png) = (dir.path().join("u.csv"), dir.path().join("u.png"));
    run(&[
        "simulate",
        toml.to_str().unwrap(),
        "--t-end",
        "1",
        "--dt",
        "0.25",
        "-o",
        csv.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
        "-q",
    ]);
    let text = fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(&header[..3], ["t", "u_0_0", "u_0_1"]);
    assert_eq!(header[600], "u_29_19");
    assert_eq!(&fs::read(&png).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn kymograph_of_a_kink_and_the_threads_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (png, svg) = (dir.path().join("k.png"), dir.path().join("k.svg"));
    let path = example("sine-gordon");
    for (plot, threads) in [(&png, "1"), (&svg, "2")] {
        let out = run(&[
            "simulate",
            path.to_str().unwrap(),
            "--t-end",
            "4",
            "--dt",
            "0.1",
            "--integrator",
            "rk4",
            "--eom",
            "compiled",
            "--threads",
            threads,
            "--plot",
            plot.to_str().unwrap(),
            "--stats",
            "-q",
        ]);
        let stats = String::from_utf8(out.stderr).unwrap();
        assert!(stats.contains("term kernels"), "{stats}");
        // 2048 sites of sine-Gordon are enough work to split the stencil across two threads
        let expected = if threads == "1" {
            ", 1 thread,"
        } else {
            ", 2 threads,"
        };
        assert!(stats.contains(expected), "{stats}");
        assert!(stats.contains("a stencil over"), "{stats}");
    }
    assert_eq!(&fs::read(&png).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    assert!(fs::read_to_string(&svg).unwrap().contains("<svg"));
}

/// 10⁵ sites, compiled and split across two threads: a Fourier mode of the lattice
/// Klein–Gordon field after one period of the lattice frequency is back where it started.
#[test]
fn a_lattice_of_a_hundred_thousand_sites_runs_compiled_on_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (sites, a, m) = (100_000, 0.01, 1.0);
    let k = 2.0 * PI * 2000.0 / (sites as f64 * a);
    let omega = (m * m + 4.0 / (a * a) * (k * a / 2.0).sin().powi(2)).sqrt();
    let period = 2.0 * PI / omega;
    let toml = dir.path().join("kg.toml");
    fs::write(
        &toml,
        format!(
            "[field]\nnames = [\"phi\"]\nsites = [{sites}]\nspacing = {a}\nboundary = \"periodic\"\ndensity = \"0.5*phi_t^2 - 0.5*phi_x^2 - 0.5*m^2*phi^2\"\n[parameters]\nm = {m}\nk = {k:?}\n[initial]\nphi = \"cos(k*x)\"\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("kg.npy");
    let run_out = run(&[
        "simulate",
        toml.to_str().unwrap(),
        "--t-end",
        &format!("{period:?}"),
        "--dt",
        &format!("{:?}", period / 2.0),
        "--rtol",
        "1e-10",
        "--atol",
        "1e-12",
        "--eom",
        "compiled",
        "--threads",
        "2",
        "--stats",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    let stats = String::from_utf8(run_out.stderr).unwrap();
    assert!(stats.contains("2 threads"), "{stats}");
    // all but the seam of the ring by the stencil, the wrap-around's two sites by its table
    assert!(
        stats.contains(&format!("a stencil over {} sites and 2 seams", sites - 2)),
        "{stats}"
    );
    let ((rows, cols), data) = read_npy(&out);
    assert_eq!((rows, cols), (3, 2 * sites + 2));
    let last = &data[2 * cols..3 * cols];
    for i in (0..sites).step_by(997) {
        let expected = (k * i as f64 * a).cos();
        // one period of the exact lattice frequency: back to the start (dopri5 at 1e-10)
        assert!(
            (last[1 + i] - expected).abs() < 1e-6,
            "site {i}: {}",
            last[1 + i]
        );
    }
}

#[test]
fn particle_radiating_into_a_string_conserves_the_total_energy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("radiate.csv");
    let path = example("particle-string");
    run(&[
        "simulate",
        path.to_str().unwrap(),
        "--t-end",
        "10",
        "--dt",
        "0.5",
        "--rtol",
        "1e-10",
        "--atol",
        "1e-12",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    let text = fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let x = header.iter().position(|h| *h == "X").unwrap();
    let x_dot = header.iter().position(|h| *h == "X_dot").unwrap();
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let energy: Vec<f64> = rows.iter().map(|r| *r.last().unwrap()).collect();
    for e in &energy {
        assert!(
            (e - energy[0]).abs() < 1e-7 * energy[0].abs().max(1.0),
            "{energy:?}"
        );
    }
    // the trapped particle's own energy ½Ẋ² + 2X² falls as it radiates
    let own = |r: &Vec<f64>| 0.5 * r[x_dot].powi(2) + 2.0 * r[x].powi(2);
    assert!(own(rows.last().unwrap()) < 0.8 * own(&rows[0]));
}

fn fails_with(toml: &str, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    fs::write(&path, toml).unwrap();
    let out_file = dir.path().join("out.npy");
    let out = lagrange()
        .args([
            "simulate",
            path.to_str().unwrap(),
            "--t-end",
            "1",
            "--dt",
            "0.1",
            "-o",
        ])
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(!out.status.success(), "accepted: {toml}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "stderr: {err}"
    );
    assert!(err.contains(needle), "{err} lacks {needle}");
    assert!(!out_file.exists(), "partial output");
}

#[test]
fn bad_field_files_fail_with_one_line() {
    let good = "[field]\nnames = [\"phi\"]\nsites = [16]\nspacing = 0.1\nboundary = \"free\"\ndensity = \"0.5*phi_t^2 - 0.5*phi_x^2\"\n";
    fails_with(&good.replace("[16]", "[1]"), "`field.sites` must be");
    fails_with(&good.replace("0.1", "0.0"), "`field.spacing` must be");
    fails_with(&good.replace("free", "open"), "unknown boundary `open`");
    fails_with(
        &good.replace("0.5*phi_t^2 - ", ""),
        "not regular in `phi_t`",
    );
    fails_with(
        &good.replace("phi_x^2\"", "chi^2\""),
        "unknown identifier `chi`",
    );
    fails_with(&good.replace("spacing", "step"), "unknown key `field.step`");
    // a field whose value blows up: an error with the time, not a file of NaN
    fails_with(
        &format!(
            "{}[initial]\nphi = 1\n",
            good.replace("0.5*phi_x^2", "0.5*phi_x^2 + exp(phi^2)")
        ),
        "t = ",
    );
}
