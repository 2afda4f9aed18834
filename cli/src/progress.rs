//! Progress bars on stderr (hidden when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `total` units (bytes or samples) labelled `what`, or a spinner when the total
/// is unknown.
pub fn bar(total: Option<u64>, what: &str) -> ProgressBar {
    let pb = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::new_spinner(),
    };
    let template = if total.is_some() {
        "{msg:>10} [{elapsed_precise}] {wide_bar} {percent:>3}% eta {eta}"
    } else {
        "{msg:>10} [{elapsed_precise}] {spinner} {pos}"
    };
    pb.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_string());
    pb
}
