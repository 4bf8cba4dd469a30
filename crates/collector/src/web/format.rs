//! Values as pages show them: times ("3 min ago", exact on hover), counts with their
//! noun, durations in words, levels, tab counts, and the small bar charts.

use maud::{Markup, html};

use crate::store::{EventLevel, now_ms};

/// `3 minutes ago`, from milliseconds.
pub(super) fn relative(ms: i64) -> String {
    let ahead = ms.saturating_sub(now_ms()) / 1000;
    if ahead > 0 {
        return match ahead {
            0..=59 => format!("in {ahead} s"),
            60..=3599 => format!("in {} min", ahead / 60),
            3600..=172_799 => format!("in {} h", ahead / 3600),
            _ => format!("in {} days", ahead / 86_400),
        };
    }
    let seconds = now_ms().saturating_sub(ms).max(0) / 1000;
    match seconds {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

pub(super) fn exact(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(at) => at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        // Stored times come from settings the checks bound; say so rather than 1970.
        None if ms > 0 => "far in the future".to_owned(),
        None => "long ago".to_owned(),
    }
}

/// A time as "3 min ago" (or "in 2 min"), its exact value on hover.
pub(super) fn when(ms: i64) -> Markup {
    html! { time datetime=(exact(ms)) title=(exact(ms)) { (relative(ms)) } }
}

/// `text` with its first letter upper-case, for a message that starts a sentence.
pub(super) fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(super) fn plural(count: i64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

pub(super) fn level(level: EventLevel) -> Markup {
    html! { span class={ "level level-" (level) } { (level) } }
}

/// `3 days`, a duration in words.
pub(super) fn duration(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match minutes {
        0..=59 => plural(minutes, "minute"),
        60..=2879 => plural(minutes / 60, "hour"),
        _ => plural(minutes / 1440, "day"),
    }
}

/// "12", or "1000+" at the cap.
pub(super) fn tab_count(count: i64) -> String {
    if count >= crate::store::STATUS_COUNT_CAP {
        format!("{}+", crate::store::STATUS_COUNT_CAP)
    } else {
        count.to_string()
    }
}

/// Events per day as an inline SVG bar chart (no script, no external resources).
pub(super) fn bar_chart(counts: &[u64], width: u32, height: u32) -> Markup {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let n = u32::try_from(counts.len()).unwrap_or(1).max(1);
    let step = (width / n).max(1);
    let total: u64 = counts.iter().sum();
    html! {
        svg.chart width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } role="img" {
            title { (total) " events, one bar a day" }
            @for (i, count) in counts.iter().enumerate() {
                @let h = u32::try_from(count * u64::from(height) / max).unwrap_or(height).max(u32::from(*count > 0));
                rect x=(u32::try_from(i).unwrap_or(0) * step) y=(height - h) width=(step.saturating_sub(1).max(1)) height=(h) {
                    title { (count) }
                }
            }
        }
    }
}

/// Text with its `http://` and `https://` addresses as links (the rest, and the links'
/// text, escaped as text; a link opens without passing this page as referrer).
pub(super) fn linkify(text: &str) -> Markup {
    let mut parts: Vec<(&str, bool)> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest
        .find("http://")
        .into_iter()
        .chain(rest.find("https://"))
        .min()
    {
        let (before, from) = rest.split_at(at);
        let end = from
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(from.len());
        // Trailing punctuation ends a sentence, not the address.
        let url = from[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        parts.push((before, false));
        if url.len() > "https://".len() {
            parts.push((url, true));
        } else {
            parts.push((url, false));
        }
        rest = &from[url.len().max(1)..];
    }
    parts.push((rest, false));
    html! {
        @for (part, link) in parts {
            @if link { a href=(part) rel="noopener noreferrer nofollow" { (part) } } @else { (part) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_times_read_as_far() {
        assert_eq!(exact(i64::MAX), "far in the future");
        assert!(
            relative(now_ms() + 5 * 86_400_000).starts_with("in 4 days")
                || relative(now_ms() + 5 * 86_400_000).starts_with("in 5 days")
        );
        assert!(relative(i64::MIN).ends_with("days ago"));
    }

    #[test]
    fn addresses_in_text_become_links_and_nothing_else_does() {
        assert_eq!(
            linkify("see https://tracker.example/T-12. Then <b>fix</b> it").into_string(),
            "see <a href=\"https://tracker.example/T-12\" rel=\"noopener noreferrer nofollow\">https://tracker.example/T-12</a>. Then &lt;b&gt;fix&lt;/b&gt; it"
        );
        assert_eq!(
            linkify("javascript:alert(1) http://").into_string(),
            "javascript:alert(1) http://"
        );
        let quoted = linkify("https://x.example/\"onmouseover=alert(1)").into_string();
        assert!(
            quoted.starts_with("<a href=\"https://x.example/\" rel=")
                && quoted.ends_with("</a>&quot;onmouseover=alert(1)"),
            "{quoted}"
        );
    }
}
