//! `simulate`: CSV exactness, JSON, NPY, plots, integrators, every example.

use super::*;
use std::fs;

#[test]
fn csv_round_trips_and_energy_is_the_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ho.csv");
    let (x0, v0, m, k) = (0.7_f64, 0.2_f64, 1.0_f64, 4.0_f64);
    ok(lagrange().args([
        "simulate",
        &example("harmonic-oscillator.toml"),
        "--t-end",
        "2",
        "--dt",
        "0.01",
        "--state",
        "x=0.7,x_dot=0.2",
        "--out",
        out.to_str().unwrap(),
    ]));
    let text = fs::read_to_string(&out).unwrap();
    let (header, rows) = parse_csv(&text);
    assert_eq!(header, ["t", "x", "x_dot", "energy"]);
    assert_eq!(rows.len(), 201);
    // first row is the initial state, bit for bit
    assert_eq!(rows[0][..3], [0.0, x0, v0]);
    // each number reads back exactly: printing it again gives the same text
    for line in text.lines().skip(1).take(20) {
        let again: Vec<String> = line
            .split(',')
            .map(|v| v.parse::<f64>().unwrap().to_string())
            .collect();
        assert_eq!(again.join(","), line);
    }
    let w = (k / m).sqrt();
    let e0 = 0.5 * m * v0 * v0 + 0.5 * k * x0 * x0;
    for row in &rows {
        let (t, x, v, e) = (row[0], row[1], row[2], row[3]);
        // energy column is E = ½ m v² + ½ k x² of the row's own state
        assert!(
            (e - (0.5 * m * v * v + 0.5 * k * x * x)).abs() <= 1e-14,
            "{row:?}"
        );
        // conserved to RK4 accuracy, and on the exact solution
        assert!((e - e0).abs() < 1e-8, "{row:?}");
        let exact = x0 * (w * t).cos() + v0 / w * (w * t).sin();
        assert!((x - exact).abs() < 1e-7, "{row:?}");
    }
    assert_eq!(rows.last().unwrap()[0], 2.0);
}

#[test]
fn json_and_npy_parse_and_agree_with_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let run = |out: &str, extra: &[&str]| {
        let mut cmd = lagrange();
        cmd.args([
            "simulate", "kepler", "--t-end", "1", "--dt", "0.05", "--out", out,
        ])
        .args(extra);
        ok(&mut cmd);
    };
    run(&path("k.csv"), &[]);
    run(&path("k.json"), &[]);
    run(&path("k.npy"), &[]);
    run(&path("k.dat"), &["--format", "json"]);
    let (header, rows) = parse_csv(&fs::read_to_string(path("k.csv")).unwrap());
    assert_eq!(header, ["t", "x", "y", "x_dot", "y_dot", "energy"]);

    for file in ["k.json", "k.dat"] {
        let v: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(path(file)).unwrap()).unwrap();
        assert_eq!(v["coordinates"], serde_json::json!(["x", "y"]));
        let t = v["t"].as_array().unwrap();
        assert_eq!(t.len(), rows.len());
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(t[i].as_f64().unwrap(), row[0]);
            assert_eq!(v["q"][i][1].as_f64().unwrap(), row[2]);
            assert_eq!(v["q_dot"][i][0].as_f64().unwrap(), row[3]);
            assert_eq!(v["energy"][i].as_f64().unwrap(), row[5]);
        }
    }

    let bytes = fs::read(path("k.npy")).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + len) % 16, 0);
    let header = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
    assert!(header.contains("'descr': '<f8'"), "{header}");
    assert!(header.contains("'fortran_order': False"), "{header}");
    assert!(
        header.contains(&format!("'shape': ({}, 6)", rows.len())),
        "{header}"
    );
    let data: Vec<f64> = bytes[10 + len..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(data, rows.concat());
}

#[test]
fn stdout_output() {
    let text = ok(lagrange().args([
        "simulate", "pendulum", "--t-end", "0.1", "--dt", "0.05", "--out", "-",
    ]));
    let (header, rows) = parse_csv(&text);
    assert_eq!(header, ["t", "theta", "theta_dot", "energy"]);
    assert_eq!(rows.len(), 3);
}

#[test]
fn png_and_svg_plots() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("dp.png");
    let svg = dir.path().join("dp.svg");
    let csv = dir.path().join("dp.csv");
    ok(lagrange()
        .args([
            "simulate",
            "double-pendulum",
            "--t-end",
            "2",
            "--dt",
            "0.01",
        ])
        .args([
            "--out".as_ref(),
            csv.as_os_str(),
            "--plot".as_ref(),
            png.as_os_str(),
        ]));
    let bytes = fs::read(&png).unwrap();
    assert!(bytes.len() > 10_000, "PNG is {} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // --plot alone is enough; E0 = 0 (exb-drift from rest) uses the absolute error
    ok(lagrange()
        .args([
            "simulate",
            &example("exb-drift.toml"),
            "--t-end",
            "3",
            "--dt",
            "0.01",
            "--plot",
        ])
        .arg(&svg));
    let text = fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("</svg>"));
    assert!(text.contains("Phase portrait") && text.contains("absolute"));
    // nothing else was left in the folder
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["dp.csv", "dp.png", "dp.svg"]);
}

#[test]
fn every_integrator() {
    let dir = tempfile::tempdir().unwrap();
    for (name, tol) in [
        ("euler", 0.2),
        ("rk4", 1e-8),
        ("dopri5", 1e-6),
        ("variational", 1e-3),
    ] {
        let out = dir.path().join(format!("{name}.csv"));
        ok(lagrange()
            .args([
                "simulate",
                &example("harmonic-oscillator.toml"),
                "--t-end",
                "1",
                "--dt",
                "0.01",
            ])
            .args(["--integrator", name, "--out"])
            .arg(&out));
        let (_, rows) = parse_csv(&fs::read_to_string(&out).unwrap());
        assert_eq!(rows.len(), 101, "{name}");
        let last = rows.last().unwrap();
        assert_eq!(last[0], 1.0);
        assert!((last[1] - 2.0_f64.cos()).abs() < tol, "{name}: {last:?}");
    }
    // --method is an alias; dopri5 (the default) is accurate at a coarse --dt
    let out = dir.path().join("alias.csv");
    ok(lagrange()
        .args([
            "simulate",
            &example("harmonic-oscillator.toml"),
            "--t-end",
            "1",
            "--dt",
            "0.5",
        ])
        .args(["--method", "rk4", "--out"])
        .arg(&out));
    let (_, rk4) = parse_csv(&fs::read_to_string(&out).unwrap());
    ok(lagrange()
        .args([
            "simulate",
            &example("harmonic-oscillator.toml"),
            "--t-end",
            "1",
            "--dt",
            "0.5",
        ])
        .arg("--out")
        .arg(&out));
    let (_, default) = parse_csv(&fs::read_to_string(&out).unwrap());
    assert!(
        (rk4[2][1] - 2.0_f64.cos()).abs() > 1e-3,
        "rk4 with h = 0.5 is coarse"
    );
    assert!(
        (default[2][1] - 2.0_f64.cos()).abs() < 1e-7,
        "dopri5 is the default"
    );
    // dopri5 with --dt as the output interval and explicit tolerances
    let out = dir.path().join("tol.csv");
    ok(lagrange()
        .args([
            "simulate",
            "pendulum",
            "--t-end",
            "1",
            "--dt",
            "0.25",
            "--integrator",
            "dopri5",
        ])
        .args(["--rtol", "1e-10", "--atol", "1e-12", "--out"])
        .arg(&out));
    let (_, rows) = parse_csv(&fs::read_to_string(&out).unwrap());
    let t: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(t, [0.0, 0.25, 0.5, 0.75, 1.0]);
}

#[test]
fn every_example_runs_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut count = 0;
    for entry in fs::read_dir(examples()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        // lattice fields (thousands of coordinates) are run by tests/fields_cli.rs
        if fs::read_to_string(&path).unwrap().contains("[field]") {
            continue;
        }
        count += 1;
        let out = dir.path().join("out.csv");
        ok(lagrange()
            .arg("simulate")
            .arg(&path)
            .args(["--t-end", "1", "--dt", "0.01", "--out"])
            .arg(&out));
        let (header, rows) = parse_csv(&fs::read_to_string(&out).unwrap());
        assert_eq!(rows.len(), 101, "{}", path.display());
        assert_eq!(header.last().unwrap(), "energy");
        assert!(rows.iter().flatten().all(|v| v.is_finite()));
    }
    assert!(count >= 8, "only {count} examples");
}

#[test]
fn compiled_equations_of_motion_give_the_same_trajectory() {
    // dopri5 and rk4 with --eom compiled follow the exact oscillator like the autodiff evaluator,
    // and the two trajectories agree to rounding (the same method on the same q̈ up to ulps)
    let dir = tempfile::tempdir().unwrap();
    for integrator in ["rk4", "dopri5"] {
        let mut rows = Vec::new();
        for eom in ["autodiff", "compiled"] {
            let out = dir.path().join(format!("{integrator}-{eom}.csv"));
            ok(lagrange()
                .args([
                    "simulate",
                    &example("harmonic-oscillator.toml"),
                    "--t-end",
                    "1",
                    "--dt",
                    "0.01",
                    "--integrator",
                    integrator,
                    "--eom",
                    eom,
                    "--out",
                ])
                .arg(&out));
            rows.push(parse_csv(&fs::read_to_string(&out).unwrap()).1);
        }
        let last = rows[1].last().unwrap();
        assert!(
            (last[1] - 2.0_f64.cos()).abs() < 1e-6,
            "{integrator}: {last:?}"
        );
        for (a, c) in rows[0].iter().zip(&rows[1]) {
            for (x, y) in a.iter().zip(c) {
                assert!((x - y).abs() < 1e-12, "{integrator}: {a:?} vs {c:?}");
            }
        }
    }
    let line = fails(lagrange().args([
        "simulate", "pendulum", "--t-end", "1", "--dt", "0.1", "--eom", "jit", "--out", "-",
    ]));
    assert!(line.contains("--eom"), "{line}");
    // a Lagrangian that cannot be traced (variable exponent): a clear error, no output file
    let toml = dir.path().join("varexp.toml");
    fs::write(
        &toml,
        "coordinates = [\"x\"]\nlagrangian = \"0.5*x_dot^2 - (x^2+1)^x\"\n",
    )
    .unwrap();
    let out = dir.path().join("never.csv");
    let line = fails(
        lagrange()
            .arg("simulate")
            .arg(&toml)
            .args(["--t-end", "1", "--dt", "0.1", "--eom", "compiled", "--out"])
            .arg(&out),
    );
    assert!(line.contains("cannot be compiled"), "{line}");
    assert!(!out.exists());
}
