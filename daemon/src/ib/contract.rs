//! From a symbol as the store names it to the contract IB is asked about: `EURUSD` is the forex
//! pair EUR/USD (secType CASH on IDEALPRO, quoted as MIDPOINT since CASH has no TRADES), anything
//! else a US stock on SMART (TRADES).

use ibapi::contracts::Contract;
use ibapi::market_data::historical::WhatToShow;

/// ISO codes of the currencies IDEALPRO quotes.
const CURRENCIES: [&str; 21] = [
    "USD", "EUR", "GBP", "JPY", "CHF", "AUD", "NZD", "CAD", "SEK", "NOK", "DKK", "HKD", "SGD",
    "MXN", "CNH", "ZAR", "TRY", "PLN", "HUF", "CZK", "ILS",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Stock { symbol: String },
    Forex { base: String, quote: String },
}

impl Spec {
    pub fn of(symbol: &str) -> Spec {
        let s = symbol.to_ascii_uppercase();
        if s.len() == 6 && s.is_ascii() {
            let (b, q) = s.split_at(3);
            if b != q && CURRENCIES.contains(&b) && CURRENCIES.contains(&q) {
                return Spec::Forex {
                    base: b.into(),
                    quote: q.into(),
                };
            }
        }
        Spec::Stock { symbol: s }
    }

    pub fn contract(&self) -> Contract {
        match self {
            Spec::Stock { symbol } => Contract::stock(symbol.as_str()).build(),
            Spec::Forex { base, quote } => Contract::forex(base.as_str(), quote.as_str()).build(),
        }
    }

    pub fn what_to_show(&self) -> WhatToShow {
        match self {
            Spec::Stock { .. } => WhatToShow::Trades,
            Spec::Forex { .. } => WhatToShow::MidPoint,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Spec::Stock { .. } => "stock",
            Spec::Forex { .. } => "forex",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forex_pairs_and_stocks() {
        assert_eq!(
            Spec::of("eurusd"),
            Spec::Forex {
                base: "EUR".into(),
                quote: "USD".into()
            }
        );
        assert_eq!(
            Spec::of("AAPL"),
            Spec::Stock {
                symbol: "AAPL".into()
            }
        );
        assert_eq!(
            Spec::of("USDUSD"),
            Spec::Stock {
                symbol: "USDUSD".into()
            }
        );
        let c = Spec::of("EURUSD").contract();
        assert_eq!(c.exchange.to_string(), "IDEALPRO");
        assert_eq!(Spec::of("EURUSD").what_to_show().to_string(), "MIDPOINT");
    }
}
