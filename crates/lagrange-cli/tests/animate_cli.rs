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
