//! The HTML report: well-formed, escaped, self-contained, graceful with empty data, and of
//! a sane size for a week of data.

mod report_support;

use pqe_report::{
    escape, ComplianceRow, ComplianceTable, EventRow, Phasor, Report, ReportData, Series, Verdict,
};

/// A strict little checker: after the doctype, the document must be well-formed XML as far
/// as tags go — every tag closed in order (or self-closed), attributes quoted, `&` only in
/// the entities the renderer writes (`&amp; &lt; &gt; &quot; &#NN;`), `<style>` raw text.
/// Returns the element names seen, or an error naming the byte offset.
fn check_well_formed(html: &str) -> Result<Vec<String>, String> {
    let doc = html
        .strip_prefix("<!DOCTYPE html>")
        .ok_or("no doctype at the start")?;
    let bytes = doc.as_bytes();
    let mut stack: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let end = doc[i..].find('>').ok_or(format!("unclosed tag at {i}"))? + i;
                let inner = &doc[i + 1..end];
                if let Some(name) = inner.strip_prefix('/') {
                    let name = name.trim();
                    match stack.pop() {
                        Some(open) if open == name => {}
                        other => {
                            return Err(format!("</{name}> at {i} closes {other:?}"));
                        }
                    }
                } else {
                    let self_closing = inner.ends_with('/');
                    let body = inner.trim_end_matches('/');
                    let name: String = body
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                        .collect();
                    if name.is_empty() {
                        return Err(format!("bad tag '{inner}' at {i}"));
                    }
                    check_attributes(&body[name.len()..]).map_err(|e| format!("{e} at {i}"))?;
                    seen.push(name.clone());
                    if !self_closing {
                        if name == "style" {
                            let close =
                                doc[end..].find("</style>").ok_or("unclosed <style>")? + end;
                            i = close + "</style>".len();
                            continue;
                        }
                        stack.push(name);
                    }
                }
                i = end + 1;
            }
            b'&' => {
                let end = doc[i..].find(';').ok_or(format!("bare & at {i}"))? + i;
                let entity = &doc[i + 1..end];
                let ok = matches!(entity, "amp" | "lt" | "gt" | "quot")
                    || (entity.starts_with('#')
                        && entity.len() > 1
                        && entity[1..].chars().all(|c| c.is_ascii_digit()));
                if !ok {
                    return Err(format!("unknown entity &{entity}; at {i}"));
                }
                i = end + 1;
            }
            b'>' => return Err(format!("bare > at {i}")),
            _ => i += 1,
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements {stack:?}"));
    }
    Ok(seen)
}

/// Attributes: `name="value"` pairs, values without `<` or a bare `&`.
fn check_attributes(mut rest: &str) -> Result<(), String> {
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(());
        }
        let eq = rest
            .find('=')
            .ok_or(format!("attribute without value: '{rest}'"))?;
        let name = &rest[..eq];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
        {
            return Err(format!("bad attribute name '{name}'"));
        }
        let after = &rest[eq + 1..];
        let value_end = after
            .strip_prefix('"')
            .ok_or(format!("unquoted attribute {name}"))?
            .find('"')
            .ok_or("unterminated attribute")?;
        let value = &after[1..1 + value_end];
        if value.contains('<') {
            return Err(format!("< inside attribute {name}"));
        }
        rest = &after[value_end + 2..];
    }
}

fn full_report() -> String {
    Report::render_html(&report_support::sample_data(24.0, 3.0))
}

#[test]
fn full_report_is_well_formed_with_every_section() {
    let html = full_report();
    let tags = check_well_formed(&html).unwrap();
    let svgs = tags.iter().filter(|t| *t == "svg").count();
    // 5 trends (U, I, f, THD, Pst, Plt = 6), 3 spectra, ITIC, phasors, 2 spectrograms,
    // 2 motor-derating charts.
    assert_eq!(svgs, 15, "svg charts");
    for id in [
        "trends",
        "flicker",
        "harmonics",
        "events",
        "phasors",
        "compliance",
        "supraharmonics",
        "metering",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    for text in [
        "ITIC (CBEMA)",
        "SEMI F47",
        "EN 50160 dips (residual voltage × duration)",
        "harmonic order",
        "RMS voltage (V)",
        "v-fail",
        "v-pass",
        "v-not-assessed",
        "flagged",
    ] {
        assert!(html.contains(text), "{text}");
    }
}

#[test]
fn all_text_is_escaped() {
    let mut data = ReportData {
        title: "<script>alert('x')</script> & co".into(),
        ..Default::default()
    };
    data.rms_voltage.push(Series {
        name: "U_<A>&\"'".into(),
        unit: "V<".into(),
        t: vec![0.0, 1.0, 2.0],
        values: vec![230.0, 231.0, 229.0],
        flagged: vec![false, true, false],
    });
    data.events.push(EventRow {
        kind: "dip<b>".into(),
        start: 1.0,
        start_text: "<i>now</i>".into(),
        duration: 0.1,
        extreme_percent: 50.0,
        phases: "A&B".into(),
        direction: "<up>".into(),
    });
    data.phasors.push(Phasor {
        channel: "U_<A>".into(),
        unit: "V".into(),
        magnitude: 230.0,
        angle_degrees: 0.0,
    });
    data.compliance.push(ComplianceTable {
        title: "T<1>".into(),
        notes: vec!["n&m".into()],
        overall: Verdict::Pass,
        rows: vec![ComplianceRow::from_strings([
            "c<".into(),
            "l>".into(),
            "m&".into(),
            "r\"".into(),
            "pass".into(),
        ])],
    });
    data.notes.push("\u{1}control\u{7f} & <note>".into());
    let html = Report::render_html(&data);
    check_well_formed(&html).unwrap();
    assert!(!html.contains("<script"));
    assert!(!html.contains("<b>") && !html.contains("<i>") && !html.contains("<note>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
    assert!(html.contains("U_&lt;A&gt;&amp;&quot;&#39;"));
    assert!(html.contains("A&amp;B"));
    assert!(
        html.contains("<td>&lt;up&gt;</td>"),
        "the direction column is escaped"
    );
    assert!(!html.contains('\u{1}'));
    assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
}

#[test]
fn no_external_references() {
    for html in [full_report(), Report::render_html(&ReportData::default())] {
        let lower = html.to_ascii_lowercase();
        for bad in [
            "http:",
            "https:",
            "//www",
            "src=",
            "url(",
            "@import",
            "<script",
            "<link",
            "<img",
            "<iframe",
            "<object",
            "xlink:href",
        ] {
            assert!(!lower.contains(bad), "found {bad}");
        }
        // The only links are the table of contents' anchors.
        for (pos, _) in lower.match_indices("href=\"") {
            assert_eq!(&lower[pos + 6..pos + 7], "#", "non-local link at {pos}");
        }
    }
}

#[test]
fn empty_data_renders_with_sentences() {
    let html = Report::render_html(&ReportData::default());
    check_well_formed(&html).unwrap();
    for text in [
        "Power-quality report",
        "no RMS voltage values",
        "recording shorter than 10 min: no Pst",
        "recording shorter than 2 h: no Plt",
        "no harmonic spectra",
        "no events",
        "no fundamental phasors",
        "no compliance assessment",
    ] {
        assert!(html.contains(text), "{text}");
    }
    assert!(!html.contains("<svg"), "no chart without data");
}

#[test]
fn degenerate_values_do_not_break_the_charts() {
    let mut data = ReportData::default();
    // All NaN: counts as empty. One point, constant values, infinities, unsorted flags.
    data.rms_voltage.push(Series {
        name: "U_A".into(),
        unit: "V".into(),
        t: vec![0.0, 1.0],
        values: vec![f64::NAN, f64::NAN],
        flagged: vec![],
    });
    data.frequency.push(Series::from_columns(
        "f",
        "Hz",
        &[5.0],
        &[50.0],
        Some(&[1.0]),
    ));
    data.thd.push(Series::from_columns(
        "THD_U_A",
        "%",
        &[0.0, 600.0, 1200.0],
        &[3.0, 3.0, f64::INFINITY],
        Some(&[0.0, 1.0]),
    ));
    data.events.push(EventRow {
        kind: "interruption".into(),
        start: 0.0,
        start_text: String::new(),
        duration: 1e6,
        extreme_percent: f64::NAN,
        phases: String::new(),
        direction: String::new(),
    });
    data.phasors.push(Phasor {
        channel: "I_A".into(),
        unit: "A".into(),
        magnitude: 0.0,
        angle_degrees: 10.0,
    });
    let html = Report::render_html(&data);
    check_well_formed(&html).unwrap();
    assert!(html.contains("no RMS voltage values"));
    // "inf" or "NaN" as a word (not inside e.g. "v-info").
    let b = html.as_bytes();
    for bad in ["NaN", "inf"] {
        for (p, _) in html.match_indices(bad) {
            let before = if p > 0 { b[p - 1] } else { b' ' };
            let after = b.get(p + bad.len()).copied().unwrap_or(b' ');
            let word =
                !before.is_ascii_alphabetic() && before != b'-' && !after.is_ascii_alphabetic();
            assert!(
                !word,
                "raw non-finite number: {}",
                &html[p.saturating_sub(80)..(p + 20).min(html.len())]
            );
        }
    }
}

#[test]
fn a_week_of_values_stays_small() {
    // One value per second for a week on three phases: 1.8 million points.
    let n = 7 * 86_400;
    let t: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut data = ReportData::default();
    for (p, name) in ["U_A", "U_B", "U_C"].iter().enumerate() {
        let values: Vec<f64> = t
            .iter()
            .map(|&x| 230.0 + 4.0 * ((x / 5000.0) + p as f64).sin() + ((x * 0.37).sin() * 0.8))
            .collect();
        let flagged: Vec<bool> = (0..n).map(|i| i % 100_000 < 30).collect();
        data.rms_voltage.push(Series {
            name: name.to_string(),
            unit: "V".into(),
            t: t.clone(),
            values,
            flagged,
        });
    }
    let html = Report::render_html(&data);
    check_well_formed(&html).unwrap();
    assert!(html.len() < 400_000, "{} bytes", html.len());
    // The envelope keeps the size independent of the number of points.
    let mut day = data.clone();
    for s in &mut day.rms_voltage {
        s.t.truncate(86_400);
        s.values.truncate(86_400);
        s.flagged.truncate(86_400);
    }
    let small = Report::render_html(&day);
    let ratio = html.len() as f64 / small.len() as f64;
    assert!(ratio < 1.5, "a week is {ratio} times a day");
}

#[test]
fn verdict_words_and_table_rows() {
    assert_eq!(Verdict::parse("PASS"), Verdict::Pass);
    assert_eq!(Verdict::parse("fail"), Verdict::Fail);
    assert_eq!(Verdict::parse("not assessed"), Verdict::NotAssessed);
    assert_eq!(Verdict::parse("whatever"), Verdict::Info);
    let row = ComplianceRow::from_strings([
        "THD U_A".into(),
        "8 %".into(),
        "99 %".into(),
        "≥ 95 %".into(),
        "not assessed".into(),
    ]);
    assert_eq!(row.verdict, Verdict::NotAssessed);
    assert_eq!(row.criterion, "THD U_A");
}

#[test]
fn series_from_table_columns() {
    let s = Series::from_columns(
        "U_A",
        "V",
        &[0.0, 0.2, 0.4],
        &[230.0, 231.0],
        Some(&[0.0, 1.0, 1.0]),
    );
    assert_eq!(s.t.len(), 2);
    assert_eq!(s.flagged, vec![false, true]);
    assert!(!s.is_empty());
}

#[test]
fn spectrum_from_columns_mean_and_p95() {
    use pqe_report::Spectrum;
    // 20 intervals of H5: 1..=20 %, the 20th flagged; H7 all NaN.
    let h5: Vec<f64> = (1..=20).map(f64::from).collect();
    let h7 = vec![f64::NAN; 20];
    let mut flags = vec![0.0; 20];
    flags[19] = 1.0;
    let s = Spectrum::from_columns(
        "U_A",
        "% of U1",
        &[(5, &h5), (7, &h7)],
        Some(&flags),
        vec![(5, 6.0)],
        "EN 50160 Table 1",
    );
    // 19 values 1..=19: mean 10, P95 = rank ⌈18.05⌉ = 19 → 19 %.
    assert_eq!(s.mean, vec![(5, 10.0)]);
    assert_eq!(s.p95, vec![(5, 19.0)]);
}

#[test]
fn switched_off_parts_say_so_instead_of_nothing_found() {
    let mut data = ReportData::default();
    let html = Report::render_html(&data);
    assert!(html.contains("no events: no dip, swell, interruption or RVC was detected"));
    assert!(!html.contains("switched off"));
    data.switched_off = vec!["harmonics".into(), "flicker".into(), "events".into()];
    let html = Report::render_html(&data);
    for text in [
        "harmonics switched off (--no-harmonics): no spectra computed",
        "harmonics switched off (--no-harmonics): no THD computed",
        "flicker switched off (--no-flicker): no Pst or Plt computed",
        "events switched off (--no-events): dips, swells, interruptions and RVCs were not detected",
    ] {
        assert!(html.contains(text), "{text}");
    }
    assert!(!html.contains("no events: no dip"));
    assert!(!html.contains("recording shorter than 10 min: no Pst"));
}

#[test]
fn metering_section_shows_energy_demand_alarms_and_the_derating_charts() {
    let data = report_support::sample_data(1.0, 3.0);
    let html = Report::render_html(&data);
    check_well_formed(&html).unwrap();
    assert!(html.contains("href=\"#metering\""), "nav link");
    let section = &html[html.find("<section id=\"metering\">").expect("section")..];
    let section = &section[..section.find("</section>").unwrap()];
    for text in [
        "<h3>Energy</h3>",
        "<h3>Maximum demand</h3>",
        "Block demand over 15 min",
        "<h3>Alarms</h3>",
        "still active",
        "<h3>Minimum and maximum</h3>",
        "Motor derating (NEMA MG 1)",
        "curve unverified",
    ] {
        assert!(section.contains(text), "{text} missing");
    }
    // Names from the settings are escaped; both derating charts are drawn.
    assert!(section.contains("dip &lt;U_A&gt; &amp; co"), "{section}");
    assert!(!section.contains("<U_A>"));
    assert_eq!(section.matches("<svg").count(), 2, "{section}");
    // Without meter quantities there is no section and no link.
    let mut none = data.clone();
    none.metering = None;
    let html = Report::render_html(&none);
    assert!(!html.contains("id=\"metering\"") && !html.contains("href=\"#metering\""));
}

#[test]
fn supraharmonics_section_shows_spectrograms_and_the_band_table() {
    let data = report_support::sample_data(1.0, 3.0);
    let html = Report::render_html(&data);
    check_well_formed(&html).unwrap();
    let section = &html[html
        .find("<section id=\"supraharmonics\">")
        .expect("section")..];
    let section = &section[..section.find("</section>").unwrap()];
    // One spectrogram per channel, coloured cells, the band edges and the legend unit.
    assert_eq!(section.matches("class=\"chart spectrogram\"").count(), 2);
    assert!(section.matches("<rect").count() > 50);
    assert!(section.contains("A | B") && section.contains("dBµA"));
    // The band table: verdicts, the unverified mark, escaped sources, quiet bands.
    assert!(
        section.contains("<td class=\"verdict v-fail\">fail</td>"),
        "{section}"
    );
    assert!(section.contains("<td class=\"verdict v-pass\">pass</td>"));
    assert!(section.contains("134 dBµV (unverified)"));
    assert_eq!(section.matches("(unverified)").count(), 1);
    assert!(section.contains("EN 50065-1 &lt;as quoted&gt;"));
    assert!(section.contains("no transmission"));
    assert!(section.contains("G3-OFDM"));
    // Without supraharmonic data there is no section at all.
    let mut none = data.clone();
    none.supraharmonics = None;
    assert!(!Report::render_html(&none).contains("id=\"supraharmonics\""));
}
