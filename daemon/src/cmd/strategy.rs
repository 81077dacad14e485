//! `strategies list|validate|show`, `indicators list|compute`, `fuzzy compute`.

use crate::context::Daemon;
use ktrdr_protocol::request::{FuzzyCompute, IndicatorsCompute, StrategiesList, StrategyShow};
use ktrdr_protocol::{Reply, WireError};

pub async fn list(ctx: &Daemon, req: StrategiesList) -> Result<Reply, WireError> {
    ctx.strategy.list(req).await.map(Reply::Strategies)
}

pub async fn show(ctx: &Daemon, req: StrategyShow) -> Result<Reply, WireError> {
    ctx.strategy.show(req).await.map(Reply::Strategy)
}

pub fn catalog() -> Reply {
    Reply::Indicators(crate::strategy::catalog())
}

pub async fn compute_indicators(ctx: &Daemon, req: IndicatorsCompute) -> Result<Reply, WireError> {
    ctx.strategy
        .compute_indicators(req)
        .await
        .map(Reply::Columns)
}

pub async fn compute_fuzzy(ctx: &Daemon, req: FuzzyCompute) -> Result<Reply, WireError> {
    ctx.strategy.compute_fuzzy(req).await.map(Reply::Columns)
}
