//! Bad scenarios are refused with messages that name the key and the line at fault.

use pqe_dsp::synth::Scenario;

fn error(text: &str) -> String {
    match Scenario::from_toml_str_named(text, "test.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => {
            eprintln!("{e}\n---");
            e.to_string()
        }
    }
}

#[track_caller]
fn assert_names(text: &str, needles: &[&str]) {
    let e = error(text);
    for n in needles {
        assert!(e.contains(n), "error does not name {n:?}: {e}");
    }
}

#[test]
fn unknown_keys_are_errors_naming_the_key_and_line() {
    assert_names(
        "duration = 1.0\nsampel_rate = 100\n",
        &["test.toml:2", "sampel_rate"],
    );
    assert_names(
        "duration = 1.0\n\n[voltage]\nmagnitude = 230\nharmonix = 3\n",
        &["test.toml:5", "harmonix"],
    );
    assert_names(
        "[[events]]\nkind = \"dip\"\nstart = 1\nduration = 0.1\nresidual = 50\ndepth = 3\n",
        &["test.toml:6", "depth"],
    );
}

#[test]
fn values_out_of_range_name_the_key_line_and_range() {
    assert_names("sample_rate = -5\n", &["test.toml:1", "sample_rate", "-5"]);
    assert_names("duration = 0\n", &["test.toml:1", "duration"]);
    assert_names(
        "nominal_frequency = 55\n",
        &["test.toml:1", "nominal_frequency", "50 or 60"],
    );
    assert_names("wiring = \"star-delta\"\n", &["wiring", "star-delta"]);
    assert_names(
        "duration = 2\n[[events]]\nkind = \"dip\"\nstart = 1\nduration = 0.1\nresidual = 150\n",
        &["test.toml:6", "events[0].residual", "[0, 100)", "150"],
    );
    assert_names(
        "duration = 2\n[[events]]\nkind = \"dip\"\nstart = 1\nduration = 0.1\nresidual = 50\n\
         [[events]]\nkind = \"swell\"\nstart = 5\nduration = 0.1\nresidual = 110\n",
        &["test.toml:9", "events[1].start", "[0, 2)"],
    );
    assert_names(
        "[[events]]\nkind = \"spike\"\nstart = 1\nduration = 0.1\n",
        &["test.toml:2", "events[0].kind", "spike"],
    );
    assert_names(
        "[voltage]\nmagnitude = [230, -1, 230]\n",
        &["test.toml:2", "voltage.magnitude[1]", "-1"],
    );
    assert_names(
        "[[voltage.harmonics]]\norder = 110\nmagnitude = 1\n",
        &["test.toml:2", "voltage.harmonics[0].order", "Nyquist"],
    );
    assert_names(
        "[[voltage.harmonics]]\norder = 1\nmagnitude = 1\n",
        &["voltage.harmonics[0].order", "fundamental"],
    );
    assert_names(
        "[[flicker]]\ndepth = 1\nrate = 8.8\nchanges_per_minute = 1056\n",
        &["test.toml:1", "flicker[0]", "changes_per_minute"],
    );
    assert_names(
        "[current]\npower_factor = 1.2\n",
        &["test.toml:2", "current.power_factor"],
    );
    assert_names(
        "[current]\npower_factor = 0.9\ndisplacement = 10\n",
        &["current.displacement", "not both"],
    );
    assert_names(
        "[frequency]\noffset = 0.0\n[[frequency.ramp]]\nstart = 0\nend = 10\nrate = 5\n",
        &["frequency", "within 25"],
    );
    assert_names(
        "channels = [\"U_A\", \"U_X\"]\n",
        &["test.toml:1", "channels[1]", "U_X"],
    );
    assert_names(
        "wiring = \"single\"\nchannels = [\"U_A\", \"I_B\"]\n",
        &["channels[1]", "single"],
    );
    assert_names(
        "[noise]\nvoltage_db = 10\n",
        &["noise.voltage_db", "≤ 0 dB"],
    );
    assert_names(
        "start = \"2024-13-01\"\n",
        &["test.toml:1", "start", "month"],
    );
    assert_names("seed = -1\n", &["seed"]);
    assert_names(
        "[voltage]\nu2 = 2\nmagnitude = [230, 231, 230]\n",
        &["voltage.u2", "not both"],
    );
}

#[test]
fn wrong_types_name_the_line() {
    assert_names("duration = \"long\"\n", &["test.toml:1", "duration"]);
    assert_names(
        "[[events]]\nkind = \"dip\"\nstart = 1\nduration = 0.1\nresidual = 50\nphases = [\"A\", \"Q\"]\n",
        &["test.toml:6", "phases", "Q"],
    );
    assert_names(
        "[voltage]\nmagnitude = [1, 2]\n",
        &["test.toml:2", "magnitude"],
    );
    assert_names("duration = \n", &["test.toml:1"]);
}

#[test]
fn missing_required_keys_and_syntax_errors_name_the_place() {
    assert_names(
        "duration = 2\n\n[[events]]\nstart = 1\nduration = 0.1\n",
        &["test.toml:3", "events[0]", "kind"],
    );
    assert_names(
        "[[frequency.ramp]]\nstart = 1\nrate = 0.1\n",
        &["test.toml:1", "frequency.ramp[0]", "end"],
    );
    assert_names(
        "duration = 2\n[[events]]\nkind = \"swell\"\nstart = 1\nduration = 0.1\n",
        &["test.toml:2", "events[0]", "residual"],
    );
    assert_names("duration = 2\n[voltage\nmagnitude = 1\n", &["test.toml:2"]);
}

#[test]
fn start_accepts_strings_and_toml_datetimes() {
    let a = Scenario::from_toml_str("start = \"2024-05-06T07:08:09.5+02:00\"").unwrap();
    let b = Scenario::from_toml_str("start = 2024-05-06T05:08:09.5Z").unwrap();
    assert_eq!(a.start(), b.start());
    assert_eq!(a.start().to_string(), "2024-05-06T05:08:09.500000000");
}
