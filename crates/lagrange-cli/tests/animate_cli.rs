//! `lagrange animate` through the binary: the GIF decodes with the `gif` crate to fps ×
//! duration frames of --size pixels, the first frame shows the bodies on the background, and
//! bad input is one `error:` line with no file left behind.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn lagrange() -> Command {
    Command::cargo_bin("lagrange").unwrap()
}

const WHITE: [u8; 3] = [255, 255, 255];
/// The first two body colours (Okabe–Ito blue and vermillion).
const BODY_1: [u8; 3] = [0, 114, 178];
const BODY_2: [u8; 3] = [213, 94, 0];

/// A decoded GIF: size, frame count and the first frame as RGB.
struct Decoded {
    width: usize,
    height: usize,
    frames: usize,
    first: Vec<[u8; 3]>,
}

impl Decoded {
    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        self.first[y * self.width + x]
    }

    fn count(&self, colour: [u8; 3]) -> usize {
        self.first.iter().filter(|&&p| p == colour).count()
    }
}

fn decode(path: &Path) -> Decoded {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options
        .read_info(std::fs::File::open(path).unwrap())
        .unwrap();
    let (width, height) = (decoder.width() as usize, decoder.height() as usize);
    let mut frames = 0;
    let mut first = Vec::new();
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        if frames == 0 {
            assert_eq!(
                (frame.width as usize, frame.height as usize),
                (width, height)
            );
            first = frame
                .buffer
                .chunks_exact(4)
                .map(|p| [p[0], p[1], p[2]])
                .collect();
        }
        frames += 1;
    }
    Decoded {
        width,
        height,
        frames,
        first,
    }
}

/// Runs `animate` with `args` into `dir/out.gif`; panics unless it succeeds.
fn animate(dir: &Path, args: &[&str]) -> PathBuf {
    let out = dir.join("out.gif");
    let result = lagrange()
        .arg("animate")
        .args(args)
        .arg("--out")
        .arg(&out)
        .arg("-q")
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

fn assert_mechanism(gif: &Decoded, frames: usize, size: (usize, usize)) {
    assert!(
        gif.frames.abs_diff(frames) <= 1,
        "{} frames, expected {frames}",
        gif.frames
    );
    assert_eq!((gif.width, gif.height), size);
    assert_eq!(gif.pixel(0, gif.height - 1), WHITE, "background corner");
    assert!(gif.count(BODY_1) > 20, "bob 1 is drawn on the first frame");
    assert!(gif.count(BODY_2) > 20, "bob 2 is drawn on the first frame");
}

#[test]
fn double_pendulum_gif_has_fps_times_duration_frames_of_the_given_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = animate(
        dir.path(),
        &[
            "double-pendulum",
            "--t-end",
            "3",
            "--fps",
            "10",
            "--duration",
            "2",
            "--size",
            "200x160",
        ],
    );
    assert_mechanism(&decode(&out), 20, (200, 160));
}

#[test]
fn first_frame_puts_the_bob_where_the_geometry_says() {
    // θ1 = θ2 = π/2 at rest, default l1 = l2 = 1: bob 2 starts at (2, 0), the rightmost point
    // of the whole motion, so it is drawn at the right edge on the pivot's height.
    let dir = tempfile::tempdir().unwrap();
    let out = animate(
        dir.path(),
        &[
            "pendulum",
            "--state",
            "theta=1.5707963267948966",
            "--t-end",
            "1",
            "--fps",
            "5",
            "--duration",
            "1",
            "--size",
            "160x160",
        ],
    );
    let gif = decode(&out);
    assert_eq!(gif.frames, 5);
    // the bob starts level with the pivot, on the right: find the blue pixels' mean place
    let blue: Vec<(usize, usize)> = (0..gif.height)
        .flat_map(|y| (0..gif.width).map(move |x| (x, y)))
        .filter(|&(x, y)| gif.pixel(x, y) == BODY_1)
        .collect();
    assert!(!blue.is_empty());
    let mean_x = blue.iter().map(|p| p.0).sum::<usize>() / blue.len();
    assert!(mean_x > gif.width * 3 / 4, "bob at x = {mean_x}");
    assert_eq!(gif.pixel(gif.width - 1, gif.height - 1), WHITE);
}

#[test]
fn toml_with_a_geometry_table_draws_its_bobs() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/double-pendulum.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = animate(
        dir.path(),
        &[
            example.to_str().unwrap(),
            "--t-end",
            "2",
            "--fps",
            "8",
            "--duration",
            "1.5",
            "--size",
            "120x140",
        ],
    );
    assert_mechanism(&decode(&out), 12, (120, 140));
}

#[test]
fn a_system_without_geometry_animates_its_phase_portraits() {
    let dir = tempfile::tempdir().unwrap();
    let out = animate(
        dir.path(),
        &[
            "harmonic-oscillator",
            "--t-end",
            "2",
            "--fps",
            "6",
            "--size",
            "180x120",
        ],
    );
    let gif = decode(&out);
    // default duration: the run's 2 s at real speed
    assert_eq!(gif.frames, 12);
    assert_eq!((gif.width, gif.height), (180, 120));
    assert!(gif.count(BODY_1) > 0 && gif.count(BODY_2) > 0);
}

/// Runs `animate` expecting failure: the one-line message, and no file at `out`.
fn fails(args: &[&str], file: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(file);
    let result = lagrange()
        .arg("animate")
        .args(args)
        .arg("--out")
        .arg(&out)
        .arg("-q")
        .output()
        .unwrap();
    assert!(!result.status.success());
    let stderr = String::from_utf8(result.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!out.exists(), "no partial file");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temp file"
    );
    stderr
}

#[test]
fn mp4_says_it_needs_system_libraries() {
    let stderr = fails(&["pendulum"], "motion.mp4");
    assert!(stderr.contains("MP4 needs an encoder with system libraries; use .gif"));
}

#[test]
fn bad_size_and_fps_are_one_line_errors() {
    assert!(fails(&["pendulum", "--size", "12x"], "a.gif").contains("--size"));
    assert!(fails(&["pendulum", "--size", "abc"], "a.gif").contains("--size"));
    assert!(fails(&["pendulum", "--fps", "0"], "a.gif").contains("--fps"));
    assert!(fails(&["pendulum", "--duration", "-1"], "a.gif").contains("--duration"));
}

#[test]
fn a_geometry_expression_naming_an_unknown_coordinate_is_a_file_error() {
    let dir = tempfile::tempdir().unwrap();
    let system = dir.path().join("bad.toml");
    std::fs::write(
        &system,
        r#"coordinates = ["theta"]
lagrangian = "0.5*theta_dot^2 + cos(theta)"
[geometry]
bobs = [["sin(phi)", "-cos(theta)"]]
rods = [[-1, 0]]
"#,
    )
    .unwrap();
    let stderr = fails(&[system.to_str().unwrap()], "a.gif");
    assert!(stderr.contains("geometry.bobs"), "{stderr}");
    assert!(stderr.contains("phi"), "{stderr}");
    assert!(stderr.contains("bad.toml"), "{stderr}");
}

#[test]
fn a_rod_to_a_missing_bob_is_a_file_error() {
    let dir = tempfile::tempdir().unwrap();
    let system = dir.path().join("bad.toml");
    std::fs::write(
        &system,
        r#"coordinates = ["theta"]
lagrangian = "0.5*theta_dot^2 + cos(theta)"
[geometry]
bobs = [["sin(theta)", "-cos(theta)"]]
rods = [[-1, 1]]
"#,
    )
    .unwrap();
    let stderr = fails(&[system.to_str().unwrap()], "a.gif");
    assert!(stderr.contains("geometry.rods[0]"), "{stderr}");
}

/// Every frame's decoded RGB pixels, with the GIF's size.
fn decode_all(path: &Path) -> (usize, usize, Vec<Vec<[u8; 3]>>) {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options
        .read_info(std::fs::File::open(path).unwrap())
        .unwrap();
    let (width, height) = (decoder.width() as usize, decoder.height() as usize);
    let mut frames = Vec::new();
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        frames.push(
            frame
                .buffer
                .chunks_exact(4)
                .map(|p| [p[0], p[1], p[2]])
                .collect(),
        );
    }
    (width, height, frames)
}

/// `frames` frames of `size`, and a first frame that shows something: more than one colour,
/// more than a title's worth of pixels off the background, and colour (not only the black and
/// greys of text and frames) below the title band.
fn assert_shows_something(gif: &Decoded, frames: usize, size: (usize, usize), what: &str) {
    assert_eq!(gif.frames, frames, "{what}: frame count");
    assert_eq!((gif.width, gif.height), size, "{what}: frame size");
    let colours: std::collections::HashSet<[u8; 3]> = gif.first.iter().copied().collect();
    assert!(colours.len() > 1, "{what}: the first frame is one colour");
    let drawn = gif.first.len() - gif.count(WHITE);
    assert!(
        drawn > gif.first.len() / 100,
        "{what}: only {drawn} pixels off the background"
    );
    let below_title = &gif.first[gif.width * gif.height * 15 / 100..];
    let coloured = below_title
        .iter()
        .filter(|p| !(p[0] == p[1] && p[1] == p[2]))
        .count();
    assert!(
        coloured > 20,
        "{what}: only {coloured} coloured pixels below the title"
    );
}

#[test]
fn every_built_in_system_animates() {
    // the library's registry, so a new built-in is tested without touching this list
    let names = lagrange::systems::names();
    assert!(names.len() >= 10);
    for name in names {
        let dir = tempfile::tempdir().unwrap();
        let out = animate(
            dir.path(),
            &[
                name,
                "--t-end",
                "1",
                "--fps",
                "10",
                "--duration",
                "0.5",
                "--size",
                "200x160",
            ],
        );
        assert_shows_something(&decode(&out), 5, (200, 160), name);
    }
}

/// Writes a field system file `name` into `dir`.
fn field_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Two free fields on a ring of 64 sites: two profiles, in the first two colours.
const FIELD_1D: &str = r#"name = "two waves"
[field]
names = ["phi", "psi"]
sites = [64]
spacing = 0.1
boundary = "periodic"
density = "0.5*phi_t^2 + 0.5*psi_t^2 - 0.5*phi_x^2 - 0.5*psi_x^2"
[initial]
phi = "sin(2*pi*x/6.4)"
psi = "0.5*cos(4*pi*x/6.4)"
"#;

/// The horizontal extent of the pixels of `colour`, as a fraction of the width.
fn spread(gif: &Decoded, colour: [u8; 3]) -> f64 {
    let xs: Vec<usize> = (0..gif.first.len())
        .filter(|&i| gif.first[i] == colour)
        .map(|i| i % gif.width)
        .collect();
    let (Some(low), Some(high)) = (xs.iter().min(), xs.iter().max()) else {
        return 0.0;
    };
    (high - low) as f64 / gif.width as f64
}

#[test]
fn a_1d_field_animates_as_profiles_across_the_picture() {
    let dir = tempfile::tempdir().unwrap();
    let system = field_file(dir.path(), "waves.toml", FIELD_1D);
    let out = animate(
        dir.path(),
        &[
            system.to_str().unwrap(),
            "--t-end",
            "1",
            "--fps",
            "10",
            "--duration",
            "0.8",
            "--size",
            "240x180",
        ],
    );
    let gif = decode(&out);
    assert_shows_something(&gif, 8, (240, 180), "1-D field");
    // a profile φ(x) runs across the whole axis (a phase portrait would fill one small panel)
    assert!(
        spread(&gif, BODY_1) > 0.6,
        "phi spans {}",
        spread(&gif, BODY_1)
    );
    assert!(
        spread(&gif, BODY_2) > 0.6,
        "psi spans {}",
        spread(&gif, BODY_2)
    );
}

#[test]
fn a_2d_field_animates_as_a_heatmap() {
    let dir = tempfile::tempdir().unwrap();
    let system = field_file(
        dir.path(),
        "plate.toml",
        r#"[field]
names = ["u"]
sites = [16, 16]
spacing = 0.1
boundary = "fixed"
density = "0.5*u_t^2 - 0.5*(u_x^2 + u_y^2)"
[initial]
u = "exp(-((x - 0.8)^2 + (y - 0.8)^2)/0.1)"
"#,
    );
    let out = animate(
        dir.path(),
        &[
            system.to_str().unwrap(),
            "--t-end",
            "1",
            "--fps",
            "10",
            "--duration",
            "0.6",
            "--size",
            "200x160",
        ],
    );
    let gif = decode(&out);
    assert_shows_something(&gif, 6, (200, 160), "2-D field");
    // the heatmap fills much of the frame with colours (not white, not grey) on a viridis scale
    let coloured = gif
        .first
        .iter()
        .filter(|p| !(p[0] == p[1] && p[1] == p[2]))
        .count();
    assert!(coloured > gif.first.len() / 4, "{coloured} coloured pixels");
    let colours: std::collections::HashSet<[u8; 3]> = gif.first.iter().copied().collect();
    assert!(colours.len() > 10, "{} colours", colours.len());
    assert!(
        colours.contains(&[253, 231, 37]),
        "the scale's top is viridis yellow"
    );
}

/// Runs `lagrange simulate SYSTEM ... --out dir/name.csv`; panics unless it succeeds.
fn simulate_csv(dir: &Path, system: &str, extra: &[&str]) -> PathBuf {
    let csv = dir.join("trajectory.csv");
    let result = lagrange()
        .args(["simulate", system, "--t-end", "2", "--dt", "0.01", "--out"])
        .arg(&csv)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    csv
}

#[test]
fn a_csv_with_system_is_drawn_as_the_system_is() {
    let dir = tempfile::tempdir().unwrap();
    let csv = simulate_csv(dir.path(), "double-pendulum", &[]);
    let settings = ["--fps", "5", "--duration", "1", "--size", "120x140"];
    let from_csv = dir.path().join("csv");
    std::fs::create_dir(&from_csv).unwrap();
    let mut args = vec![csv.to_str().unwrap(), "--system", "double-pendulum"];
    args.extend(settings);
    let with_system = decode_all(&animate(&from_csv, &args));
    let direct = dir.path().join("direct");
    std::fs::create_dir(&direct).unwrap();
    let mut args = vec!["double-pendulum", "--t-end", "2"];
    args.extend(settings);
    let simulated = decode_all(&animate(&direct, &args));
    // the same states (rows at t = 0, 0.5, ..., 2 read back bit-exactly) give the same picture
    assert_eq!(with_system.2.len(), 5);
    assert_eq!((with_system.0, with_system.1), (120, 140));
    assert!(
        with_system.2[0] == simulated.2[0],
        "first frames differ: the CSV is not drawn as double-pendulum"
    );
    assert_mechanism(&decode(&from_csv.join("out.gif")), 5, (120, 140));
    // without --system it is the phase-portrait picture
    let phase = dir.path().join("phase");
    std::fs::create_dir(&phase).unwrap();
    let mut args = vec![csv.to_str().unwrap()];
    args.extend(settings);
    let portraits = decode_all(&animate(&phase, &args));
    assert!(portraits.2[0] != with_system.2[0]);
}

#[test]
fn a_field_csv_with_system_animates_as_its_profile() {
    let dir = tempfile::tempdir().unwrap();
    let system = field_file(dir.path(), "waves.toml", FIELD_1D);
    let csv = simulate_csv(dir.path(), system.to_str().unwrap(), &[]);
    let gifs = dir.path().join("gifs");
    std::fs::create_dir(&gifs).unwrap();
    let out = animate(
        &gifs,
        &[
            csv.to_str().unwrap(),
            "--system",
            system.to_str().unwrap(),
            "--fps",
            "4",
            "--duration",
            "1",
            "--size",
            "240x180",
        ],
    );
    let gif = decode(&out);
    assert_shows_something(&gif, 4, (240, 180), "1-D field CSV");
    assert!(spread(&gif, BODY_1) > 0.6 && spread(&gif, BODY_2) > 0.6);
}

#[test]
fn a_csv_of_another_system_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let csv = simulate_csv(dir.path(), "double-pendulum", &[]);
    let csv = csv.to_str().unwrap();
    let stderr = fails(&[csv, "--system", "pendulum"], "a.gif");
    assert!(stderr.contains("theta1, theta2"), "{stderr}");
    assert!(
        stderr.contains("--system 'pendulum' has theta;"),
        "{stderr}"
    );
    // a size parameter changes the coordinates: chain's default n against a CSV of n = 3
    let chain = tempfile::tempdir().unwrap();
    let chain_csv = simulate_csv(chain.path(), "chain", &["--param", "n=3"]);
    let chain_csv = chain_csv.to_str().unwrap();
    let stderr = fails(&[chain_csv, "--system", "chain", "--param", "n=4"], "a.gif");
    assert!(stderr.contains("x1, x2, x3 but"), "{stderr}");
    // ... and matches with the same n
    let ok = tempfile::tempdir().unwrap();
    let out = animate(
        ok.path(),
        &[
            chain_csv, "--system", "chain", "--param", "n=3", "--fps", "4",
        ],
    );
    assert_shows_something(&decode(&out), 8, (480, 480), "chain CSV");
    assert!(fails(&[csv, "--system", "no-such-system"], "a.gif").contains("unknown system"));
    assert!(fails(&["pendulum", "--system", "pendulum"], "a.gif").contains("trajectory CSV"));
    assert!(fails(&[csv, "--param", "l1=2"], "a.gif").contains("--param needs --system"));
    assert!(fails(&[csv, "--state", "theta1=1"], "a.gif").contains("--state"));
}
