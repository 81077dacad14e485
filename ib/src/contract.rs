//! From a symbol as the store names it to the contract IB is asked about: `EURUSD` is the forex
//! pair EUR/USD (secType CASH on IDEALPRO, quoted as MIDPOINT since CASH has no TRADES);
//! `ES_CONT` is the continuous future of the root ES (secType CONTFUT on its exchange, TRADES):
//! IB stitches the front months together for historical bars, which is what research over years of
//! futures data needs; anything else is a US stock on SMART (TRADES).

use ibapi::contracts::Contract;
use ibapi::market_data::historical::WhatToShow;

/// ISO codes of the currencies IDEALPRO quotes.
const CURRENCIES: [&str; 21] = [
    "USD", "EUR", "GBP", "JPY", "CHF", "AUD", "NZD", "CAD", "SEK", "NOK", "DKK", "HKD", "SGD",
    "MXN", "CNH", "ZAR", "TRY", "PLN", "HUF", "CZK", "ILS",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Stock {
        symbol: String,
    },
    Forex {
        base: String,
        quote: String,
    },
    ContinuousFuture {
        root: String,
        exchange: &'static str,
    },
}

/// Suffix of a stored continuous-futures symbol: `ES_CONT`.
pub const CONTINUOUS: &str = "_CONT";

/// The exchange IB lists each common futures root on; other roots are looked up on CME (IB answers
/// "no security definition" for a wrong one, which reaches the user as a not-found error).
const FUTURES_EXCHANGES: [(&str, &str); 21] = [
    ("ES", "CME"),
    ("MES", "CME"),
    ("NQ", "CME"),
    ("MNQ", "CME"),
    ("RTY", "CME"),
    ("6E", "CME"),
    ("6J", "CME"),
    ("6B", "CME"),
    ("YM", "CBOT"),
    ("MYM", "CBOT"),
    ("ZN", "CBOT"),
    ("ZB", "CBOT"),
    ("ZF", "CBOT"),
    ("ZC", "CBOT"),
    ("ZS", "CBOT"),
    ("ZW", "CBOT"),
    ("CL", "NYMEX"),
    ("NG", "NYMEX"),
    ("GC", "COMEX"),
    ("SI", "COMEX"),
    ("HG", "COMEX"),
];

impl Spec {
    pub fn of(symbol: &str) -> Spec {
        let s = symbol.to_ascii_uppercase();
        if let Some(root) = s.strip_suffix(CONTINUOUS).filter(|r| !r.is_empty()) {
            let exchange = FUTURES_EXCHANGES
                .iter()
                .find(|(r, _)| *r == root)
                .map_or("CME", |(_, e)| e);
            return Spec::ContinuousFuture {
                root: root.to_string(),
                exchange,
            };
        }
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
            Spec::ContinuousFuture { root, exchange } => {
                Contract::continuous_futures(root.as_str())
                    .on_exchange(*exchange)
                    .build()
            }
        }
    }

    pub fn what_to_show(&self) -> WhatToShow {
        match self {
            Spec::Stock { .. } | Spec::ContinuousFuture { .. } => WhatToShow::Trades,
            Spec::Forex { .. } => WhatToShow::MidPoint,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Spec::Stock { .. } => "stock",
            Spec::Forex { .. } => "forex",
            Spec::ContinuousFuture { .. } => "continuous future",
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
        assert_eq!(
            Spec::of("cl_cont"),
            Spec::ContinuousFuture {
                root: "CL".into(),
                exchange: "NYMEX"
            }
        );
        let es = Spec::of("ES_CONT").contract();
        assert_eq!(
            (es.security_type.to_string(), es.exchange.to_string()),
            ("CONTFUT".into(), "CME".into())
        );
        assert_eq!(Spec::of("ES_CONT").what_to_show().to_string(), "TRADES");
        assert_eq!(
            Spec::of("_CONT"),
            Spec::Stock {
                symbol: "_CONT".into()
            }
        );
        let c = Spec::of("EURUSD").contract();
        assert_eq!(c.exchange.to_string(), "IDEALPRO");
        assert_eq!(Spec::of("EURUSD").what_to_show().to_string(), "MIDPOINT");
    }

    #[test]
    fn each_kind_builds_its_contract_and_names_itself() {
        let stock = Spec::of("AAPL");
        assert_eq!(stock.kind(), "stock");
        assert_eq!(stock.contract().symbol.to_string(), "AAPL");
        assert_eq!(stock.what_to_show(), WhatToShow::Trades);
        let fx = Spec::of("EURUSD");
        assert_eq!(fx.kind(), "forex");
        assert_eq!(fx.what_to_show(), WhatToShow::MidPoint);
        assert_eq!(fx.contract().currency.to_string(), "USD");
        let fut = Spec::of("CL_CONT");
        assert_eq!(fut.kind(), "continuous future");
        assert_eq!(fut.what_to_show(), WhatToShow::Trades);
        let c = fut.contract();
        assert_eq!(c.symbol.to_string(), "CL");
        assert_eq!(c.exchange.to_string(), "NYMEX");
    }
}
