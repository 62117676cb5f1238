//! Cursor pagination over v2 lists.

use std::fmt;

use serde::de::DeserializeOwned;

use crate::{Api, ApiError, transport::Call};

/// Most pages [`Pages::all`] reads before stopping (a guard against a cursor that never ends).
const MAX_PAGES: usize = 10_000;

/// The pages of a cursor-paginated list. Call [`Pages::next_page`] until it returns `None`, or
/// [`Pages::all`] for everything.
pub struct Pages<'a, T> {
    api: Api<'a>,
    path: &'static str,
    query: Vec<(&'static str, String)>,
    cursor: Option<String>,
    done: bool,
    _item: std::marker::PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Pages<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("path", &self.path)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<'a, T: DeserializeOwned> Pages<'a, T> {
    pub(crate) fn new(
        api: Api<'a>,
        path: &'static str,
        query: Vec<(&'static str, String)>,
    ) -> Self {
        Self {
            api,
            path,
            query,
            cursor: None,
            done: false,
            _item: std::marker::PhantomData,
        }
    }

    /// Starts from a cursor saved earlier ([`Pages::cursor`] of a listing that stopped), instead
    /// of from the first page.
    #[must_use]
    pub fn resume_from(mut self, cursor: impl Into<String>) -> Self {
        let cursor = cursor.into();
        self.cursor = (!cursor.is_empty()).then_some(cursor);
        self.done = false;
        self
    }

    /// The cursor of the next page to read (save it to resume later with
    /// [`Pages::resume_from`]); `None` before the first page and after the last.
    pub fn cursor(&self) -> Option<&str> {
        if self.done {
            None
        } else {
            self.cursor.as_deref()
        }
    }

    /// The next page, or `None` after the last one.
    ///
    /// # Errors
    /// [`ApiError`] from the call; the same page is asked for again on the next call.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let mut call = Call::new(reqwest::Method::GET, self.path, self.api.auth);
        call.query.clone_from(&self.query);
        if let Some(cursor) = &self.cursor {
            call = call.query("cursor", cursor);
        }
        let (items, next) = self.api.client.page(call).await?;
        // A missing, empty or repeated cursor ends the list.
        self.done = next.is_none() || next == self.cursor;
        self.cursor = next;
        Ok(Some(items))
    }

    /// Every item of every remaining page.
    ///
    /// # Errors
    /// The first [`ApiError`].
    pub async fn all(mut self) -> Result<Vec<T>, ApiError> {
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            match self.next_page().await? {
                Some(page) => items.extend(page),
                None => break,
            }
        }
        Ok(items)
    }
}
