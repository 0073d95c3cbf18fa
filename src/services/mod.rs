//! Use-cases shared by the web pages, the API and background tasks.

pub mod catalogue;
