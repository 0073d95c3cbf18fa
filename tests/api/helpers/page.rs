//! A parsed HTML page: tests read values out of pages through CSS selectors (scraper) rather
//! than by cutting strings.

use scraper::{ElementRef, Html, Selector};

pub struct Page {
    html: Html,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css:?}: {e}"))
}

/// An element's text, whitespace runs collapsed to single spaces and trimmed.
pub fn text_of(element: ElementRef<'_>) -> String {
    element.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Page {
    pub fn parse(html: &str) -> Page {
        Page { html: Html::parse_document(html) }
    }

    /// Every element matching `css`, in document order.
    pub fn select<'a>(&'a self, css: &str) -> Vec<ElementRef<'a>> {
        self.html.select(&selector(css)).collect()
    }

    pub fn exists(&self, css: &str) -> bool {
        self.html.select(&selector(css)).next().is_some()
    }

    /// The first element matching `css`; panics naming the selector when there is none.
    pub fn one(&self, css: &str) -> ElementRef<'_> {
        self.html.select(&selector(css)).next().unwrap_or_else(|| panic!("no {css} in the page"))
    }

    /// The text of the first element matching `css` (see `text_of`).
    pub fn text(&self, css: &str) -> String {
        text_of(self.one(css))
    }

    /// The texts of every element matching `css`.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select(css).into_iter().map(text_of).collect()
    }

    /// Attribute `name` of the first element matching `css` (entities decoded).
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.html.select(&selector(css)).next()?.value().attr(name).map(str::to_string)
    }

    /// Attribute `name` of every element matching `css` that has it.
    pub fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        self.select(css).into_iter().filter_map(|e| e.value().attr(name).map(str::to_string)).collect()
    }
}
