//! What a customer was doing when a crash hit them, in their words, for messages to
//! them: a name the team gave the route (`POST /checkout = checking out`), else the page
//! from its path (`/cart/5` -> "on the cart page"); never the HTTP method or a URL.

use mayday_protocol::Event;

/// Longest list of route names, in lines.
pub const MAX_ROUTE_NAMES: usize = 200;

/// One route the team named: an optional method, a path pattern (`:id`, `{id}` and `*`
/// match any one segment) and the words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteName {
    method: Option<String>,
    segments: Vec<String>,
    words: String,
}

/// Why a list of route names was refused: the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route names, line {line}: {problem} (write `POST /checkout = checking out`)")]
pub struct RouteNamesError {
    /// The line, from 1.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// Parses the team's route names, a line each (`[METHOD] /path = words`); blank lines
/// and `#` comments are skipped.
pub fn parse_route_names(text: &str) -> Result<Vec<RouteName>, RouteNamesError> {
    let mut names = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let refuse = |problem: &str| RouteNamesError {
            line: index + 1,
            problem: problem.to_owned(),
        };
        if names.len() >= MAX_ROUTE_NAMES {
            return Err(refuse("too many lines (at most 200)"));
        }
        let (route, words) = line
            .split_once('=')
            .ok_or_else(|| refuse("no `=` between the route and the words"))?;
        let words = words.trim();
        if words.is_empty() || words.chars().count() > 100 || words.chars().any(char::is_control) {
            return Err(refuse("the words are 1 to 100 characters"));
        }
        let mut parts = route.split_whitespace();
        let (method, path) = match (parts.next(), parts.next(), parts.next()) {
            (Some(path), None, None) if path.starts_with('/') => (None, path),
            (Some(method), Some(path), None)
                if path.starts_with('/') && method.chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                (Some(method.to_ascii_uppercase()), path)
            }
            _ => return Err(refuse("the route is `/path` or `METHOD /path`")),
        };
        names.push(RouteName {
            method,
            segments: segments(path).map(str::to_owned).collect(),
            words: words.to_owned(),
        });
    }
    Ok(names)
}

fn segments(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn is_wildcard(segment: &str) -> bool {
    segment == "*"
        || segment.starts_with(':')
        || (segment.starts_with('{') && segment.ends_with('}'))
}

impl RouteName {
    fn matches(&self, method: Option<&str>, path: &str) -> bool {
        if let (Some(want), Some(method)) = (&self.method, method)
            && !want.eq_ignore_ascii_case(method)
        {
            return false;
        }
        let given: Vec<&str> = segments(path).collect();
        given.len() == self.segments.len()
            && self
                .segments
                .iter()
                .zip(&given)
                .all(|(pattern, segment)| is_wildcard(pattern) || pattern == segment)
    }
}

/// The request's method and path (no query, no host), from its URL or else its route.
fn method_and_path(event: &Event) -> (Option<String>, Option<String>) {
    let request = event.request.as_ref();
    let method = request.and_then(|r| r.method.clone());
    let path = request
        .and_then(|r| r.url.as_deref())
        .map(|url| match url::Url::parse(url) {
            Ok(parsed) => parsed.path().to_owned(),
            Err(_) => url.split('?').next().unwrap_or(url).to_owned(),
        });
    match path {
        Some(path) => (method, Some(path)),
        // A route such as `GET /cart/{id}`, when there is no request.
        None => match event.transaction.as_deref().and_then(|t| t.split_once(' ')) {
            Some((method, path)) if path.starts_with('/') => {
                (Some(method.to_owned()), Some(path.to_owned()))
            }
            _ => (
                method,
                event.transaction.clone().filter(|t| t.starts_with('/')),
            ),
        },
    }
}

/// The page `event` was on, as a path (`/checkout`), for the team and for `{page}`.
pub fn page(event: &Event) -> Option<String> {
    method_and_path(event).1
}

/// What the customer was doing: the team's name for the route, else "on the ... page"
/// from the path, else "using the site".
pub fn doing(event: &Event, names: &[RouteName]) -> String {
    let (method, path) = method_and_path(event);
    let Some(path) = path else {
        return "using the site".to_owned();
    };
    // The route's template (`GET /cart/{id}`) first, then the path itself.
    let route = event
        .transaction
        .as_deref()
        .and_then(|t| t.split_once(' ').map(|(_, p)| p.to_owned()));
    for candidate in route.iter().chain(std::iter::once(&path)) {
        if let Some(name) = names
            .iter()
            .find(|name| name.matches(method.as_deref(), candidate))
        {
            return name.words.clone();
        }
    }
    page_in_words(&path)
}

/// `/cart/5` -> "on the cart page", `/` -> "on the home page", `/account/api-keys` ->
/// "on the api keys page": the last segment that is not an id.
pub fn page_in_words(path: &str) -> String {
    let looks_like_id = |segment: &str| {
        segment.chars().any(|c| c.is_ascii_digit())
            && segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
    };
    match segments(path).rev().find(|s| !looks_like_id(s)) {
        None => "on the home page".to_owned(),
        Some(segment) => {
            let words: String = segment
                .chars()
                .map(|c| {
                    if c == '-' || c == '_' || c == '.' {
                        ' '
                    } else {
                        c
                    }
                })
                .collect();
            format!("on the {} page", words.trim().to_lowercase())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(method: &str, url: &str, transaction: Option<&str>) -> Event {
        serde_json::from_value(serde_json::json!({
            "request": {"method": method, "url": url},
            "transaction": transaction,
        }))
        .unwrap()
    }

    #[test]
    fn the_teams_words_first_then_the_page() {
        let names = parse_route_names(
            "# what customers call our pages\nPOST /checkout = checking out\n/cart/:id = looking at your cart\n",
        )
        .unwrap();
        let checkout = event("POST", "https://shop.example/checkout?bundle=team", None);
        assert_eq!(doing(&checkout, &names), "checking out");
        let cart = event("GET", "https://shop.example/cart/5", Some("GET /cart/{id}"));
        assert_eq!(doing(&cart, &names), "looking at your cart");
        // Another method of a named route, and unnamed pages: from the path.
        let viewing = event("GET", "https://shop.example/checkout", None);
        assert_eq!(doing(&viewing, &names), "on the checkout page");
        let order = event("GET", "https://shop.example/orders/9f3a-77", None);
        assert_eq!(doing(&order, &[]), "on the orders page");
        assert_eq!(page_in_words("/"), "on the home page");
        assert_eq!(page_in_words("/account/api-keys"), "on the api keys page");
        assert_eq!(page(&checkout).as_deref(), Some("/checkout"));
        let nothing: Event = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(doing(&nothing, &names), "using the site");
    }

    #[test]
    fn bad_lines_are_named() {
        let error =
            parse_route_names("POST /checkout = checking out\ncheckout: paying").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.to_string().contains("POST /checkout = checking out"));
        assert!(parse_route_names("GET checkout = x").is_err());
        assert!(parse_route_names("/x = ").is_err());
    }
}
