//! The parser: Go's precedence for `&&`, `||`, `!` and parentheses; each matcher checked as Traefik builds it.

use super::eval::*;
use super::hints::*;
use super::lexer::*;
use super::unquote::*;
use super::*;

/// Parses a Traefik v3 HTTP router rule.
pub fn parse(rule: &str) -> Result<Rule, RuleError> {
    let mut lexer = Lexer { src: rule, pos: 0, semicolon: false };
    let token = lexer.next_token()?;
    let mut parser = Parser { src: rule, lexer, token, depth: 0, semantic: None };
    if parser.token.tok == Tok::Eof {
        let message = "the rule is empty; write at least one matcher, such as Host(`example.com`)".to_string();
        return Err(parser.error("SY3114", (0, rule.len()), message, Vec::new()));
    }
    let expr = match parser.or() {
        // Too deep for this recursive parser: a flat pass still finds what makes Traefik disable the rule;
        // without one, the rule is accepted unread (SY3113, a warning).
        Err(deep) if deep.traefik_accepts() => return Err(flat_check(rule).err().unwrap_or(deep)),
        other => other?,
    };
    if parser.token.tok == Tok::Newline {
        // Go's parser takes one semicolon at the end; anything after it is an error at the line break.
        let newline = parser.advance()?;
        if parser.token.tok != Tok::Eof {
            return Err(parser.newline_error(&newline));
        }
    }
    if parser.token.tok != Tok::Eof {
        return Err(parser.trailing());
    }
    match parser.semantic {
        Some(err) => Err(err),
        None => Ok(Rule { expr }),
    }
}

/// The syntax of a rule checked without recursion, for rules nested deeper than [`MAX_DEPTH`]: operands
/// (`!`s, then a matcher or `(`), operators between them, parentheses counted, each matcher checked as Traefik
/// builds it, Go's line-break rule. It only says whether Traefik disables the rule (the first problem found).
fn flat_check(rule: &str) -> Result<(), RuleError> {
    let mut lexer = Lexer { src: rule, pos: 0, semicolon: false };
    let token = lexer.next_token()?;
    let mut p = Parser { src: rule, lexer, token, depth: 0, semantic: None };
    let mut open: Vec<Token> = Vec::new();
    loop {
        // An operand: `!`s and `(`s, then a matcher.
        loop {
            match p.token.tok {
                Tok::Not => {
                    p.advance()?;
                }
                Tok::LParen => open.push(p.advance()?),
                _ => break,
            }
        }
        if p.token.tok != Tok::Ident {
            let found = p.describe(&p.token);
            let message = format!("expected a matcher, found {found}");
            return Err(p.error("SY3101", (p.token.start, p.token.end), message, Vec::new()));
        }
        p.call()?;
        while p.token.tok == Tok::RParen && !open.is_empty() {
            open.pop();
            p.advance()?;
        }
        match p.token.tok {
            Tok::And | Tok::Or => {
                p.advance()?;
            }
            Tok::Newline if open.is_empty() => {
                let newline = p.advance()?;
                if p.token.tok != Tok::Eof {
                    return Err(p.newline_error(&newline));
                }
                break;
            }
            Tok::Eof if open.is_empty() => break,
            _ => {
                let found = p.describe(&p.token);
                let message = format!("expected `&&`, `||` or `)`, found {found}");
                return Err(p.error("SY3101", (p.token.start, p.token.end), message, Vec::new()));
            }
        }
    }
    match p.semantic {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

pub(crate) struct Parser<'a> {
    pub(crate) src: &'a str,
    pub(crate) lexer: Lexer<'a>,
    pub(crate) token: Token,
    pub(crate) depth: usize,
    /// The first error that is not a syntax error (unknown matcher, bad argument...). Go reports syntax errors
    /// first, so parsing goes on to the end before this one is returned.
    pub(crate) semantic: Option<RuleError>,
}

impl Parser<'_> {
    pub(crate) fn error(
        &self,
        code: &'static str,
        span: (usize, usize),
        message: String,
        hints: Vec<String>,
    ) -> RuleError {
        self.lexer.error(code, span, message, hints)
    }

    pub(crate) fn advance(&mut self) -> Result<Token, RuleError> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.token, next))
    }

    pub(crate) fn text(&self, token: &Token) -> &str {
        &self.src[token.start..token.end]
    }

    pub(crate) fn describe(&self, token: &Token) -> String {
        match token.tok {
            Tok::Eof => "the end of the rule".to_string(),
            Tok::Newline => "a line break".to_string(),
            Tok::Str(_) => format!("the string {}", self.text(token)),
            _ => format!("`{}`", self.text(token)),
        }
    }

    pub(crate) fn enter(&mut self, at: &Token) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let message = format!(
                "more than {MAX_DEPTH} nested parentheses or `!`: Traefik reads the rule, but switchyard neither checks \
                 nor simulates it; simplify it to have it checked"
            );
            return Err(self.error("SY3113", (at.start, at.end), message, Vec::new()));
        }
        Ok(())
    }

    pub(crate) fn or(&mut self) -> Result<Expr, RuleError> {
        let first = self.and()?;
        if self.token.tok != Tok::Or {
            return Ok(first);
        }
        let mut items = Vec::with_capacity(4);
        items.push(first);
        while self.token.tok == Tok::Or {
            let op = self.advance()?;
            self.operand_after(&op)?;
            items.push(self.and()?);
        }
        Ok(Expr::Or(items))
    }

    pub(crate) fn and(&mut self) -> Result<Expr, RuleError> {
        let first = self.unary()?;
        if self.token.tok != Tok::And {
            return Ok(first);
        }
        let mut items = Vec::with_capacity(4);
        items.push(first);
        while self.token.tok == Tok::And {
            let op = self.advance()?;
            self.operand_after(&op)?;
            items.push(self.unary()?);
        }
        Ok(Expr::And(items))
    }

    /// After a binary operator: refuse a missing operand, pointing at the operator.
    pub(crate) fn operand_after(&self, op: &Token) -> Result<(), RuleError> {
        if matches!(self.token.tok, Tok::Eof | Tok::Newline | Tok::RParen) {
            let what = self.text(op);
            let message = format!(
                "`{what}` has no matcher after it (found {}); add one, such as Host(`example.com`), or remove the `{what}`",
                self.describe(&self.token)
            );
            return Err(self.error("SY3101", (op.start, op.end), message, Vec::new()));
        }
        Ok(())
    }

    pub(crate) fn unary(&mut self) -> Result<Expr, RuleError> {
        if self.token.tok == Tok::Not {
            let not = self.advance()?;
            self.enter(&not)?;
            if matches!(self.token.tok, Tok::Eof | Tok::Newline | Tok::RParen) {
                let message = format!(
                    "`!` has nothing to negate (found {}); put a matcher or `(` after it",
                    self.describe(&self.token)
                );
                return Err(self.error("SY3101", (not.start, not.end), message, Vec::new()));
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    pub(crate) fn primary(&mut self) -> Result<Expr, RuleError> {
        match self.token.tok {
            Tok::LParen => {
                let open = self.advance()?;
                self.enter(&open)?;
                let expr = self.or()?;
                if self.token.tok != Tok::RParen {
                    if self.token.tok == Tok::Eof {
                        let message = format!(
                            "this `(` is never closed; add `)` (the rule ends at column {})",
                            column(self.src, self.src.len())
                        );
                        return Err(self.error("SY3101", (open.start, open.end), message, Vec::new()));
                    }
                    return Err(self.unexpected_after_operand("`)` to close the `(`", &open));
                }
                self.advance()?;
                self.depth -= 1;
                Ok(expr)
            }
            Tok::Ident => self.call(),
            _ => {
                let found = self.describe(&self.token);
                let hints = match self.token.tok {
                    Tok::Str(_) => {
                        vec!["a string on its own is not a matcher; put it inside one: Host(`...`)".to_string()]
                    }
                    _ => Vec::new(),
                };
                let message = format!("expected a matcher such as Host(`example.com`), `!` or `(`, found {found}");
                Err(self.error("SY3101", (self.token.start, self.token.end), message, hints))
            }
        }
    }

    /// The token after a complete operand is not what `context` needs.
    pub(crate) fn unexpected_after_operand(&self, needed: &str, open: &Token) -> RuleError {
        let token = &self.token;
        if token.tok == Tok::Newline {
            return self.newline_error(token);
        }
        let found = self.describe(token);
        let text = self.text(token);
        let mut hints = operator_hints(text);
        if matches!(token.tok, Tok::Ident | Tok::Str(_) | Tok::LParen | Tok::Not) {
            hints.push("join matchers with && or ||".to_string());
        }
        let message =
            format!("expected `&&`, `||` or {needed} at column {}, found {found}", column(self.src, open.start));
        self.error("SY3101", (token.start, token.end), message, hints)
    }

    pub(crate) fn newline_error(&self, newline: &Token) -> RuleError {
        let message = "a line break here ends the rule (Go inserts a semicolon after a name, a string or `)`), so \
                       what follows cannot be read; break the line after `&&`, `||`, `(` or `,` instead"
            .to_string();
        self.error("SY3101", (newline.start, newline.end), message, Vec::new())
    }

    /// After a complete expression, something other than the end.
    pub(crate) fn trailing(&self) -> RuleError {
        let token = &self.token;
        if token.tok == Tok::Newline {
            return self.newline_error(token);
        }
        let found = self.describe(token);
        let mut hints = operator_hints(self.text(token));
        let message = if token.tok == Tok::RParen {
            format!("unexpected {found}: it has no matching `(`; remove it")
        } else {
            if matches!(token.tok, Tok::Ident | Tok::Str(_) | Tok::LParen | Tok::Not) {
                hints.push("join matchers with && or ||".to_string());
            }
            format!("expected `&&`, `||` or the end of the rule, found {found}")
        };
        self.error("SY3101", (token.start, token.end), message, hints)
    }

    /// `Name(args...)`.
    pub(crate) fn call(&mut self) -> Result<Expr, RuleError> {
        let name_token = self.advance()?;
        let src = self.src;
        let name = &src[name_token.start..name_token.end];
        let name_span = (name_token.start, name_token.end);
        if self.token.tok != Tok::LParen {
            return Err(self.bare_name(name, name_span));
        }
        let open = self.advance()?;
        let mut args = Vec::new();
        loop {
            match &self.token.tok {
                Tok::RParen => break,
                Tok::Str(_) => {
                    let token = self.advance()?;
                    if let Tok::Str(value) = token.tok {
                        args.push(Arg { value, span: (token.start, token.end) });
                    }
                }
                _ => return Err(self.bad_argument(name)),
            }
            // Go's `f(a...)`: the spread ends the argument list (a comma may follow it, then `)`).
            let spread = self.token.tok == Tok::Ellipsis;
            if spread {
                self.advance()?;
            }
            match self.token.tok {
                Tok::Comma if spread => {
                    self.advance()?;
                    if self.token.tok != Tok::RParen {
                        let found = self.describe(&self.token);
                        let message = format!("expected `)` after `...` in {name}, found {found}");
                        let hints = vec!["`...` may only follow the last argument".to_string()];
                        return Err(self.error("SY3101", (self.token.start, self.token.end), message, hints));
                    }
                    break;
                }
                Tok::Comma => {
                    self.advance()?;
                }
                Tok::RParen => break,
                Tok::Newline => return Err(self.newline_error(&self.token)),
                Tok::Eof => {
                    let message = format!("the `(` of {name} is never closed; add `)` after the last argument");
                    return Err(self.error("SY3101", (open.start, open.end), message, Vec::new()));
                }
                _ => {
                    let found = self.describe(&self.token);
                    let message = format!("expected `,` or `)` after an argument of {name}, found {found}");
                    let hints = vec!["separate arguments with commas: Header(`X-Key`, `value`)".to_string()];
                    return Err(self.error("SY3101", (self.token.start, self.token.end), message, hints));
                }
            }
        }
        let close = self.advance()?;
        let call_span = (name_span.0, close.end);
        let matcher = match self.matcher(name, name_span, args, call_span) {
            Ok(matcher) => matcher,
            Err(err) => {
                self.semantic.get_or_insert(err);
                Matcher { kind: MatcherKind::Host, name_span, args: Vec::new(), compiled: Compiled::Nothing }
            }
        };
        Ok(Expr::Matcher(matcher))
    }

    /// A name not followed by `(`.
    pub(crate) fn bare_name(&self, name: &str, span: (usize, usize)) -> RuleError {
        if let Some(kind) = MatcherKind::from_name(name) {
            let message =
                format!("expected `(` after {name}, found {}; write {}", self.describe(&self.token), kind.example());
            return self.error("SY3101", (self.token.start, self.token.end), message, Vec::new());
        }
        let mut hints = operator_hints(name);
        hints.extend(unknown_name_hints(name, &[], true));
        let message = format!("`{name}` is not a matcher; a rule combines matchers such as Host(`example.com`)");
        self.error("SY3102", span, message, hints)
    }

    /// In an argument list, something that is not a string.
    pub(crate) fn bad_argument(&self, name: &str) -> RuleError {
        let token = &self.token;
        let found = self.describe(token);
        if token.tok == Tok::Newline {
            return self.newline_error(token);
        }
        if matches!(token.tok, Tok::Ident | Tok::Other) {
            // An unquoted value such as Host(example.com): quote everything up to `,` or `)`.
            let rest = &self.src[token.start..];
            let len = rest.find([',', ')', '\n']).unwrap_or(rest.len());
            let value = rest[..len].trim_end();
            let end = token.start + value.len();
            let message =
                format!("argument `{value}` of {name} is not quoted; arguments are strings: write {name}(`{value}`)");
            let hints = vec!["use backticks (`...`), or double quotes with Go escapes".to_string()];
            return self.error("SY3101", (token.start, end), message, hints);
        }
        let message = format!("expected an argument of {name} (a string in backticks), found {found}");
        self.error("SY3101", (token.start, token.end), message, Vec::new())
    }

    /// The span of the character at byte `at` (empty at the end of the rule).
    pub(crate) fn char_span(&self, at: usize) -> (usize, usize) {
        let len = self.src[at..].chars().next().map_or(0, char::len_utf8);
        (at, at + len)
    }

    /// Checks a call the way Traefik builds the matcher, in Traefik's order.
    pub(crate) fn matcher(
        &self,
        name: &str,
        name_span: (usize, usize),
        args: Vec<Arg>,
        call_span: (usize, usize),
    ) -> Result<Matcher, RuleError> {
        // For hints only (computed on errors).
        let whole = || self.src.trim() == &self.src[call_span.0..call_span.1];
        let values = || args.iter().map(|a| a.value.as_str()).collect::<Vec<&str>>();
        let Some(kind) = MatcherKind::from_name(name) else {
            let names: Vec<&str> = MatcherKind::ALL.iter().map(|k| k.name()).collect();
            let message = format!("unknown matcher `{name}`; HTTP rules use {}", names.join(", "));
            return Err(self.error("SY3102", name_span, message, unknown_name_hints(name, &values(), whole())));
        };
        let (fewest, most) = kind.arity();
        let expected = match (fewest, most) {
            (1, 1) => "exactly 1 argument".to_string(),
            (2, 2) => "exactly 2 arguments".to_string(),
            (a, b) => format!("{a} or {b} arguments"),
        };
        if args.is_empty() {
            let message = format!("{name} takes {expected}, got none; write {}", kind.example());
            return Err(self.error("SY3103", call_span, message, Vec::new()));
        }
        if let Some(arg) = args.iter().find(|a| a.value.is_empty()) {
            let message = format!("empty argument to {name}; every argument needs a value, as in {}", kind.example());
            return Err(self.error("SY3104", arg.span, message, Vec::new()));
        }
        if args.len() < fewest || args.len() > most {
            let message = format!("{name} takes {expected}, got {}", args.len());
            return Err(self.error("SY3103", call_span, message, arity_hints(kind, &values(), whole())));
        }
        let first = &args[0];
        let compiled = match kind {
            MatcherKind::Path | MatcherKind::PathPrefix if !first.value.starts_with('/') => {
                let fixed = call_text(kind.name(), &[&format!("/{}", first.value)]);
                let message = format!("the path given to {name} must start with `/`; write {fixed}");
                return Err(self.error("SY3105", first.span, message, Vec::new()));
            }
            MatcherKind::Host | MatcherKind::HostRegexp if !first.value.is_ascii() => {
                let bad = first.value.find(|c: char| !c.is_ascii()).unwrap_or(0);
                let c = first.value[bad..].chars().next().unwrap_or('?');
                let span = self.char_span(source_offset(self.src, first.span, bad));
                let message =
                    format!("{name} accepts only ASCII, found `{c}`; write the domain in its punycode (xn--) form");
                return Err(self.error("SY3106", span, message, Vec::new()));
            }
            MatcherKind::ClientIP => match IpRange::parse(&first.value) {
                Ok(range) => Compiled::Ip(range),
                Err(why) => {
                    let message = format!(
                        "`{}` is neither an IP address nor a CIDR range{}; write an address such as `192.168.1.7` or \
                         `2001:db8::1`, or a range such as `192.168.1.0/24`",
                        first.value,
                        why.map(|why| format!(" ({why})")).unwrap_or_default()
                    );
                    return Err(self.error("SY3108", first.span, message, Vec::new()));
                }
            },
            _ => Compiled::Nothing,
        };
        let compiled = match kind.regexp_arg(args.len()) {
            Some(i) => {
                let arg = &args[i];
                if !literal_is_utf8(self.src, arg.span) {
                    let message = format!(
                        "the regexp given to {name} does not compile: invalid UTF-8 (its escapes make bytes that are \
                         not UTF-8); write the characters themselves, or \\u escapes"
                    );
                    return Err(self.error("SY3107", arg.span, message, Vec::new()));
                }
                match go_regex::compile(&arg.value) {
                    Ok(regex) => Compiled::Regex(regex),
                    Err(err) => {
                        let span = self.char_span(source_offset(self.src, arg.span, err.offset));
                        let message = format!(
                            "the regexp given to {name} does not compile: {}; fix the regexp (Go RE2 syntax), or \
                             escape special characters with `\\`",
                            err.message,
                        );
                        let mut hints = Vec::new();
                        if err.message.contains("unclosed group") || err.message.contains("unopened group") {
                            hints.push("a literal parenthesis is written `\\(` or `\\)`".to_string());
                        }
                        return Err(self.error("SY3107", span, message, hints));
                    }
                }
            }
            None => compiled,
        };
        Ok(Matcher { kind, name_span, args, compiled })
    }
}
