//! Where each pane goes: fixed heights for the strips (position, heat rows), the rest shared by
//! weight, the price pane getting the most.

use super::{PaneKind, PriceChart};

pub const TITLE_H: u32 = 34;
/// Under the last pane: the date labels.
pub const AXIS_H: u32 = 34;
/// Left of every pane: the value labels, the same width everywhere so the panes line up.
pub const LABELS_W: u32 = 86;
pub const RIGHT_MARGIN: u32 = 24;
const HEAT_ROW_H: u32 = 16;
const POSITION_H: u32 = 30;
const MIN_WEIGHTED_H: u32 = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Price,
    Volume,
    Extra(usize),
}

#[derive(Debug, Clone)]
pub struct Placed {
    pub slot: Slot,
    pub top: u32,
    pub height: u32,
    pub title: String,
}

pub struct Layout {
    pub slots: Vec<Placed>,
}

enum Size {
    Fixed(u32),
    Weight(u32),
}

fn sizes(c: &PriceChart) -> Vec<(Slot, Size, String)> {
    let mut v = vec![(Slot::Price, Size::Weight(50), "price".to_string())];
    if c.volume.is_some() {
        v.push((Slot::Volume, Size::Weight(11), "volume".into()));
    }
    for (i, p) in c.panes.iter().enumerate() {
        let size = match &p.kind {
            PaneKind::Lines(_) => Size::Weight(18),
            PaneKind::Drawdown(_) => Size::Weight(13),
            PaneKind::Heat(rows) => Size::Fixed(HEAT_ROW_H * rows.len().max(1) as u32 + 18),
            PaneKind::Position(_) => Size::Fixed(POSITION_H),
        };
        v.push((Slot::Extra(i), size, p.title.clone()));
    }
    v
}

/// The smallest height at which every pane still has room.
pub fn min_height(c: &PriceChart) -> u32 {
    TITLE_H
        + AXIS_H
        + sizes(c)
            .iter()
            .map(|(_, s, _)| match s {
                Size::Fixed(h) => *h,
                Size::Weight(_) => MIN_WEIGHTED_H,
            })
            .sum::<u32>()
}

/// A height that gives the price pane about 420 px and the other panes their share.
pub fn auto_height(c: &PriceChart) -> u32 {
    let s = sizes(c);
    let fixed: u32 = s
        .iter()
        .map(|(_, s, _)| if let Size::Fixed(h) = s { *h } else { 0 })
        .sum();
    let weights: u32 = s
        .iter()
        .map(|(_, s, _)| if let Size::Weight(w) = s { *w } else { 0 })
        .sum();
    (TITLE_H + AXIS_H + fixed + 420 * weights / 50).clamp(min_height(c), crate::MAX_SIDE)
}

impl Layout {
    pub fn new(c: &PriceChart) -> Layout {
        let s = sizes(c);
        let fixed: u32 = s
            .iter()
            .map(|(_, s, _)| if let Size::Fixed(h) = s { *h } else { 0 })
            .sum();
        let weights: u32 = s
            .iter()
            .map(|(_, s, _)| if let Size::Weight(w) = s { *w } else { 0 })
            .sum::<u32>()
            .max(1);
        let free = c.height.saturating_sub(TITLE_H + AXIS_H + fixed);
        let mut top = TITLE_H;
        let count = s.len();
        let slots = s
            .into_iter()
            .enumerate()
            .map(|(i, (slot, size, title))| {
                let mut height = match size {
                    Size::Fixed(h) => h,
                    Size::Weight(w) => free * w / weights,
                };
                // The last pane carries the date axis under it.
                if i + 1 == count {
                    height = c.height.saturating_sub(top);
                }
                let p = Placed {
                    slot,
                    top,
                    height,
                    title,
                };
                top += height;
                p
            })
            .collect();
        Layout { slots }
    }
}
