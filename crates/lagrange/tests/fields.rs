//! Fields on lattices against exact solutions: the lattice Klein–Gordon dispersion relation,
//! the sine-Gordon kink (order of the lattice error, energy of the variational integrator),
//! the 2-D wave equation (energy, a radial standing wave), a particle radiating into a string,
//! and the errors of bad field files.

use lagrange::field::FieldSystem;
use lagrange::field::exact::{klein_gordon_omega, radial_standing_wave, sine_gordon_kink};
use lagrange::integrators::{Method, NoObserver, simulate};
use lagrange::systems::System;
use lagrange::{Lagrangian, accelerations, jacobi_integral};
use std::f64::consts::PI;

fn field(toml: &str) -> FieldSystem {
    FieldSystem::from_toml_str(toml).unwrap_or_else(|e| panic!("{e}"))
}

fn klein_gordon(sites: usize, a: f64, m: f64, mode: usize) -> (FieldSystem, f64) {
    let length = sites as f64 * a;
    let k = 2.0 * PI * mode as f64 / length;
    let system = field(&format!(
        r#"
        name = "Klein-Gordon"
        [field]
        names = ["phi"]
        sites = [{sites}]
        spacing = {a:?}
        boundary = "periodic"
        density = "0.5*phi_t^2 - 0.5*phi_x^2 - 0.5*m^2*phi^2"
        [parameters]
        m = {m:?}
        k = {k:?}
        [initial]
        phi = "cos(k*x)"
        "#
    ));
    (system, k)
}

/// A Fourier mode oscillates at the lattice frequency: the phase of φ₀(t) after ~20 periods
/// gives ω to 1e-6 relative (dopri5 at rtol 1e-11: its phase error is ~1e-9).
#[test]
fn klein_gordon_modes_follow_the_lattice_dispersion_relation() {
    let (sites, a, m) = (32, 0.25, 1.0);
    for mode in [1, 5, 14] {
        let (system, k) = klein_gordon(sites, a, m, mode);
        let omega = klein_gordon_omega(m, k, a);
        let (q, q_dot) = system.initial_state();
        // at t = 0 the mode is an eigenvector: φ̈ = −ω² φ to rounding
        let acc = accelerations(&system, 0.0, &q, &q_dot).unwrap();
        for i in 0..sites {
            assert!((acc[i] + omega * omega * q[i]).abs() < 1e-12 * omega * omega);
        }
        let periods = 20.0;
        let t_end = periods * 2.0 * PI / omega;
        let method = Method::DormandPrince54 {
            rtol: 1e-11,
            atol: 1e-13,
        };
        let run = simulate(
            &system,
            &method,
            0.0,
            &q,
            &q_dot,
            t_end,
            t_end / 4.0,
            &mut NoObserver,
        )
        .unwrap();
        let (phi, phi_t) = (run.q.last().unwrap()[0], run.q_dot.last().unwrap()[0]);
        // φ₀ = cos(ω' t): the phase is ω' t_end, unwrapped by the expected number of turns
        let phase = (-phi_t / omega).atan2(phi);
        let turns = ((omega * t_end - phase) / (2.0 * PI)).round();
        let measured = (phase + 2.0 * PI * turns) / t_end;
        let relative = (measured - omega).abs() / omega;
        eprintln!("mode {mode}: ω = {measured}, lattice {omega}, relative {relative:.1e}");
        assert!(
            relative < 1e-6,
            "mode {mode}: ω {measured} vs {omega} ({relative:.1e})"
        );
        // the continuum ω² = m² + k² is wrong on the lattice for short waves: the test can fail
        let continuum = (m * m + k * k).sqrt();
        if mode == 14 {
            assert!((measured - continuum).abs() / continuum > 0.1);
        }
    }
}

fn sine_gordon(a: f64, length: f64, v: f64, x0: f64) -> FieldSystem {
    let sites = (length / a).round() as usize;
    field(&format!(
        r#"
        name = "sine-Gordon"
        [field]
        names = ["phi"]
        sites = [{sites}]
        spacing = {a:?}
        boundary = "free"
        density = "0.5*phi_t^2 - 0.5*phi_x^2 - (1 - cos(phi))"
        [parameters]
        v = {v:?}
        x0 = {x0:?}
        [initial]
        phi = "4*atan(exp((x - x0)/sqrt(1 - v^2)))"
        phi_t = "-2*v/sqrt(1 - v^2)/cosh((x - x0)/sqrt(1 - v^2))"
        "#
    ))
}

/// After travelling 10 widths the lattice kink matches the continuum kink to O(a²): the
/// fitted order over a = 0.2, 0.1, 0.05 is 2 ± 0.3 (the Laplacian's central difference).
#[test]
fn sine_gordon_kink_converges_at_second_order_in_the_spacing() {
    let (v, x0, length): (f64, f64, f64) = (0.5, 10.0, 34.0);
    let width = (1.0 - v * v).sqrt();
    let t_end = 10.0 * width / v;
    let method = Method::DormandPrince54 {
        rtol: 1e-10,
        atol: 1e-12,
    };
    let mut points = Vec::new();
    for a in [0.2, 0.1, 0.05] {
        let system = sine_gordon(a, length, v, x0);
        let (q, q_dot) = system.initial_state();
        let run = simulate(
            &system,
            &method,
            0.0,
            &q,
            &q_dot,
            t_end,
            t_end,
            &mut NoObserver,
        )
        .unwrap();
        let q_end = run.q.last().unwrap();
        let error = q_end
            .iter()
            .enumerate()
            .map(|(i, &phi)| (phi - sine_gordon_kink(i as f64 * a, t_end, x0, v).0).abs())
            .fold(0.0, f64::max);
        points.push((a.ln(), error.ln()));
    }
    let slope = (points[2].1 - points[0].1) / (points[2].0 - points[0].0);
    eprintln!(
        "kink: errors {:?}, order {slope:.3}",
        points.iter().map(|p| p.1.exp()).collect::<Vec<_>>()
    );
    assert!(
        (slope - 2.0).abs() < 0.3,
        "order {slope:.2}, errors {:?}",
        points.iter().map(|p| p.1.exp()).collect::<Vec<_>>()
    );
}

/// The variational integrator keeps the lattice energy of the moving kink to 1e-6 relative
/// (it is symplectic: the energy error oscillates, O(dt²), without drift).
#[test]
fn variational_integrator_keeps_the_kink_energy() {
    let system = sine_gordon(0.1, 24.0, 0.5, 8.0);
    let (q, q_dot) = system.initial_state();
    let run = simulate(
        &system,
        &Method::Variational,
        0.0,
        &q,
        &q_dot,
        8.0,
        0.01,
        &mut NoObserver,
    )
    .unwrap();
    let e0 = jacobi_integral(&system, 0.0, &q, &q_dot).unwrap();
    // the continuum kink's energy is 8γ
    assert!((e0 - 8.0 / (1.0_f64 - 0.25).sqrt()).abs() < 1e-2 * e0);
    let drift = run
        .q
        .iter()
        .zip(&run.q_dot)
        .zip(&run.t)
        .map(|((q, q_dot), &t)| (jacobi_integral(&system, t, q, q_dot).unwrap() - e0).abs())
        .fold(0.0, f64::max)
        / e0;
    eprintln!("kink energy {e0}, variational drift {drift:.2e}");
    assert!(drift <= 1e-6, "relative energy drift {drift:.2e}");
}

/// A radial standing wave J₀(kr) cos(kt) of the 2-D wave equation, started from J₀ on the
/// lattice (fixed boundary far enough that its influence has not reached the centre): the
/// error near the centre shrinks as a², and the energy is conserved.
#[test]
fn two_dimensional_radial_wave_matches_the_bessel_solution() {
    let (k, t_end, half_width): (f64, f64, f64) = (2.0, 1.5, 3.0);
    let mut errors = Vec::new();
    for a in [0.2_f64, 0.1] {
        let sites = (2.0 * half_width / a).round() as usize + 1;
        let centre = (sites - 1) as f64 * a / 2.0;
        let mut system = field(&format!(
            r#"
            [field]
            names = ["u"]
            sites = [{sites}, {sites}]
            spacing = {a:?}
            boundary = "fixed"
            density = "0.5*u_t^2 - 0.5*(u_x^2 + u_y^2)"
            [parameters]
            k = {k:?}
            x0 = {centre:?}
            "#
        ));
        let n = system.dof();
        let lattice = system.lattice().clone();
        let q: Vec<f64> = (0..n)
            .map(|s| {
                let [x, y] = lattice.position(s);
                radial_standing_wave((x - centre).hypot(y - centre), 0.0, k, 1.0).0
            })
            .collect();
        let q_dot = vec![0.0; n];
        system.set_parameter("k", k).unwrap();
        let method = Method::DormandPrince54 {
            rtol: 1e-9,
            atol: 1e-11,
        };
        let run = simulate(
            &system,
            &method,
            0.0,
            &q,
            &q_dot,
            t_end,
            t_end,
            &mut NoObserver,
        )
        .unwrap();
        let q_end = run.q.last().unwrap();
        // near the centre (r < 1): the boundary's influence travels at c = 1 and is ≥ 1.5 away
        let mut error: f64 = 0.0;
        for (s, &u) in q_end.iter().enumerate() {
            let [x, y] = lattice.position(s);
            let r = (x - centre).hypot(y - centre);
            if r < 1.0 {
                error = error.max((u - radial_standing_wave(r, t_end, k, 1.0).0).abs());
            }
        }
        errors.push(error);
        let e0 = jacobi_integral(&system, 0.0, &q, &q_dot).unwrap();
        let e1 = jacobi_integral(&system, t_end, q_end, run.q_dot.last().unwrap()).unwrap();
        assert!((e1 - e0).abs() < 1e-7 * e0.abs(), "energy {e0} → {e1}");
    }
    let order = (errors[0] / errors[1]).log2();
    eprintln!("radial wave: errors {errors:?}, order {order:.2}");
    assert!(errors[1] < 1e-2, "error {errors:?}");
    assert!(
        (order - 2.0).abs() < 0.4,
        "order {order:.2} from {errors:?}"
    );
}

/// A charged particle in a harmonic trap (frequency 2) coupled to a string of mass 1 radiates
/// (it oscillates above the string's lowest frequency): its own energy falls while the total
/// energy of particle, field and coupling stays constant.
#[test]
fn particle_radiates_into_a_string_with_total_energy_conserved() {
    let system = field(
        r#"
        name = "particle radiating into a string"
        coordinates = ["X"]
        lagrangian = "0.5*M*X_dot^2 - 0.5*K*X^2"
        coupling = "-g*phi*exp(-(x - 20 - X)^2/(2*w^2))"
        [field]
        names = ["phi"]
        sites = [400]
        spacing = 0.1
        boundary = "periodic"
        density = "0.5*phi_t^2 - 0.5*phi_x^2 - 0.5*mu^2*phi^2"
        [parameters]
        mu = 1.0
        M = 1.0
        K = 4.0
        g = 1.0
        w = 0.5
        [initial]
        X = 1.0
        "#,
    );
    assert_eq!(system.dof(), 401);
    assert_eq!(system.coordinates()[400], "X");
    assert!(system.structure().constant_mass_matrix);
    let (q, q_dot) = system.initial_state();
    let method = Method::DormandPrince54 {
        rtol: 1e-10,
        atol: 1e-12,
    };
    // waves leave at speed 1 and would come back around the ring (40 long) after t = 20
    let run = simulate(
        &system,
        &method,
        0.0,
        &q,
        &q_dot,
        15.0,
        0.5,
        &mut NoObserver,
    )
    .unwrap();
    let particle = |q: &[f64], q_dot: &[f64]| 0.5 * q_dot[400].powi(2) + 2.0 * q[400].powi(2);
    let e0 = jacobi_integral(&system, 0.0, &q, &q_dot).unwrap();
    let (q_end, q_dot_end) = (run.q.last().unwrap(), run.q_dot.last().unwrap());
    let e1 = jacobi_integral(&system, 15.0, q_end, q_dot_end).unwrap();
    assert!(
        (e1 - e0).abs() < 1e-8 * e0.abs().max(1.0),
        "energy {e0} → {e1}"
    );
    let (field_energy, _) = system.energy_parts(15.0, q_end, q_dot_end);
    let (p0, p1) = (particle(&q, &q_dot), particle(q_end, q_dot_end));
    assert!(p1 < 0.1 * p0, "the particle kept its energy: {p0} → {p1}");
    assert!(
        field_energy > 0.1 * (p0 - p1),
        "field energy {field_energy}"
    );
}

#[test]
fn several_fields_are_site_major_and_energy_splits_into_parts() {
    let system = field(
        r#"
        [field]
        names = ["phi", "psi"]
        sites = [3, 2]
        spacing = 0.5
        boundary = "free"
        density = "0.5*(phi_t^2 + psi_t^2) - 0.5*(phi_x^2 + phi_y^2 + psi_x^2 + psi_y^2) - lambda*phi^2*psi^2"
        [parameters]
        lambda = 0.3
        [initial]
        phi = "x + y"
        psi_t = "1"
        "#,
    );
    let names = system.coordinates();
    assert_eq!(&names[..4], ["phi_0_0", "psi_0_0", "phi_0_1", "psi_0_1"]);
    assert_eq!(names.len(), 12);
    let (q, q_dot) = system.initial_state();
    assert_eq!(q[system.coordinate(system.lattice().site(2, 1), 0)], 1.5);
    let (field_part, rest) = system.energy_parts(0.0, &q, &q_dot);
    assert_eq!(rest, 0.0);
    let e = jacobi_integral(&system, 0.0, &q, &q_dot).unwrap();
    assert!((field_part - e).abs() < 1e-14 * e.abs());
    // by hand: kinetic ½ψ_t² = ½ per site, gradient energy ½(φ_x² + φ_y²) = ½(1 + 1) where the
    // link exists (free boundary: 2 of 3 x-links per row, 1 of 2 y-links per column)
    let a2 = 0.25;
    let kinetic = 6.0 * 0.5;
    let gradient = 0.5 * (2.0 * 2.0 + 3.0); // (x-links: 2 rows × 2) + (y-links: 3 columns × 1)
    assert!((e - a2 * (kinetic + gradient)).abs() < 1e-12, "{e}");
}

#[test]
fn bad_field_files_give_one_line_errors() {
    let base = |field: &str| {
        format!(
            "[field]\nnames = [\"phi\"]\nsites = [8]\nspacing = 0.1\nboundary = \"free\"\ndensity = \"0.5*phi_t^2 - 0.5*phi_x^2\"\n{field}"
        )
    };
    let cases: Vec<(String, &str)> = vec![
        (base("").replace("[8]", "[1]"), "`field.sites` must be"),
        (
            base("").replace("[8]", "[8, 8, 8]"),
            "`field.sites` must be",
        ),
        (
            base("").replace("0.1", "0"),
            "`field.spacing` must be a finite number > 0",
        ),
        (base("").replace("0.1", "-0.5"), "`field.spacing` must be"),
        (
            base("").replace("\"free\"", "\"mirror\""),
            "unknown boundary `mirror`",
        ),
        (
            base("").replace("0.5*phi_t^2 - ", ""),
            "`density` is not regular in `phi_t`",
        ),
        (
            base("").replace("phi_x^2\"", "psi^2\""),
            "in `density` at column 19: unknown identifier `psi`",
        ),
        (
            base("").replace("phi_x^2\"", "phi_y^2\""),
            "unknown identifier `phi_y`",
        ),
        (base("").replace("phi_x^2\"", "phi_dot^2\""), "`phi_dot`"),
        (
            base("[initial]\nchi = 1"),
            "`[initial]` entry `chi` is not a state variable",
        ),
        (
            base("[initial]\nphi = \"log(x - 0.35)\""),
            "`initial.phi` is NaN at x = 0",
        ),
        (
            base("[initial]\nphi = \"z\""),
            "in `initial.phi` at column 1: unknown identifier `z`",
        ),
        (
            base("[parameters]\nx = 1"),
            "parameter `x` shadows the site position",
        ),
        (
            base("[parameters]\nphi_t = 1"),
            "parameter `phi_t` shadows the velocity of field `phi`",
        ),
        (
            base("").replace("boundary", "edges"),
            "unknown key `field.edges`",
        ),
        (
            base("").replace("[\"phi\"]", "[\"x\"]"),
            "name `x` is used twice",
        ),
        (
            format!("lagrangian = \"X_dot^2\"\n{}", base("")),
            "missing required key `coordinates`",
        ),
        (
            format!(
                "coordinates = [\"X\"]\ncoupling = \"X*psi\"\nlagrangian = \"X_dot^2\"\n{}",
                base("")
            ),
            "in `coupling` at column 3: unknown identifier `psi`",
        ),
    ];
    for (toml, expected) in cases {
        match FieldSystem::from_toml_str(&toml) {
            Ok(_) => panic!("accepted:\n{toml}"),
            Err(e) => {
                let message = e.to_string();
                assert!(message.contains(expected), "{message:?} lacks {expected:?}");
                assert!(!message.contains('\n'), "{message:?} is not one line");
            }
        }
    }
}
