//! Pages of this area (being built).

use axum::Router;

use crate::UiState;

pub(crate) fn routes() -> Router<UiState> {
    Router::new()
}
