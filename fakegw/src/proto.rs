//! The protobuf messages the fake reads and writes, written from the documented field numbers of the
//! TWS API (see `../shared/notes/ibapi-5.5.md`). Only the fields the fake uses are declared: prost
//! skips unknown fields on decode, and a real gateway sends far more.

use prost::Message;

/// Message ids, before the +200 offset that marks a protobuf payload.
pub mod id {
    pub const IN_START_API: i32 = 71;
    pub const IN_REQ_IDS: i32 = 8;
    pub const IN_REQ_CONTRACT_DATA: i32 = 9;
    pub const IN_REQ_MANAGED_ACCOUNTS: i32 = 17;
    pub const IN_REQ_HISTORICAL_DATA: i32 = 20;
    pub const IN_CANCEL_HISTORICAL_DATA: i32 = 25;
    pub const IN_REQ_CURRENT_TIME: i32 = 49;
    pub const IN_REQ_HEAD_TIMESTAMP: i32 = 87;
    pub const IN_CANCEL_HEAD_TIMESTAMP: i32 = 90;
    pub const IN_CANCEL_CONTRACT_DATA: i32 = 106;

    pub const OUT_ERROR: i32 = 4;
    pub const OUT_NEXT_VALID_ID: i32 = 9;
    pub const OUT_CONTRACT_DATA: i32 = 10;
    pub const OUT_MANAGED_ACCOUNTS: i32 = 15;
    pub const OUT_HISTORICAL_DATA: i32 = 17;
    pub const OUT_CURRENT_TIME: i32 = 49;
    pub const OUT_CONTRACT_DATA_END: i32 = 52;
    pub const OUT_HEAD_TIMESTAMP: i32 = 88;
    pub const OUT_HISTORICAL_DATA_END: i32 = 108;
    /// An update of the forming bar of a keep-up-to-date request.
    pub const OUT_HISTORICAL_DATA_UPDATE: i32 = 90;

    /// Added to a message id to say "the payload is protobuf".
    pub const PROTOBUF_OFFSET: i32 = 200;
}

#[derive(Clone, PartialEq, Message)]
pub struct StartApiRequest {
    #[prost(int32, optional, tag = "1")]
    pub client_id: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NextValidId {
    #[prost(int32, optional, tag = "1")]
    pub order_id: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ManagedAccounts {
    #[prost(string, optional, tag = "1")]
    pub accounts_list: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Contract {
    #[prost(int32, optional, tag = "1")]
    pub con_id: Option<i32>,
    #[prost(string, optional, tag = "2")]
    pub symbol: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub sec_type: Option<String>,
    #[prost(string, optional, tag = "8")]
    pub exchange: Option<String>,
    #[prost(string, optional, tag = "9")]
    pub primary_exch: Option<String>,
    #[prost(string, optional, tag = "10")]
    pub currency: Option<String>,
    #[prost(string, optional, tag = "11")]
    pub local_symbol: Option<String>,
    #[prost(string, optional, tag = "12")]
    pub trading_class: Option<String>,
}

/// The few detail fields worth filling in; the client requires the message to be present.
#[derive(Clone, PartialEq, Message)]
pub struct ContractDetails {
    #[prost(string, optional, tag = "1")]
    pub market_name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub min_tick: Option<String>,
    #[prost(string, optional, tag = "7")]
    pub long_name: Option<String>,
    #[prost(string, optional, tag = "12")]
    pub time_zone_id: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ContractDataRequest {
    #[prost(int32, optional, tag = "1")]
    pub req_id: Option<i32>,
    #[prost(message, optional, tag = "2")]
    pub contract: Option<Contract>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ContractData {
    #[prost(int32, optional, tag = "1")]
    pub req_id: Option<i32>,
    #[prost(message, optional, tag = "2")]
    pub contract: Option<Contract>,
    #[prost(message, optional, tag = "3")]
    pub details: Option<ContractDetails>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ContractDataEnd {
    #[prost(int32, optional, tag = "1")]
    pub req_id: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct HistoricalDataRequest {
    #[prost(int32, optional, tag = "1")]
    pub req_id: Option<i32>,
    #[prost(message, optional, tag = "2")]
    pub contract: Option<Contract>,
    #[prost(string, optional, tag = "3")]
    pub end_date_time: Option<String>,
    #[prost(string, optional, tag = "4")]
    pub bar_size_setting: Option<String>,
    #[prost(string, optional, tag = "5")]
    pub duration: Option<String>,
    #[prost(bool, optional, tag = "6")]
    pub use_rth: Option<bool>,
    #[prost(string, optional, tag = "7")]
    pub what_to_show: Option<String>,
    #[prost(int32, optional, tag = "8")]
    pub format_date: Option<i32>,
    #[prost(bool, optional, tag = "9")]
    pub keep_up_to_date: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct HistoricalDataBar {
    #[prost(string, optional, tag = "1")]
    pub date: Option<String>,
    #[prost(double, optional, tag = "2")]
    pub open: Option<f64>,
    #[prost(double, optional, tag = "3")]
    pub high: Option<f64>,
    #[prost(double, optional, tag = "4")]
    pub low: Option<f64>,
    #[prost(double, optional, tag = "5")]
    pub close: Option<f64>,
    #[prost(string, optional, tag = "6")]
    pub volume: Option<String>,
    #[prost(string, optional, tag = "7")]
    pub wap: Option<String>,
    #[prost(int32, optional, tag = "8")]
    pub bar_count: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct HistoricalData {
    #[prost(int32, optional, tag = "1")]
    pub req_id: Option<i32>,
    #[prost(message, repeated, tag = "2")]
    pub bars: Vec<HistoricalDataBar>,
}

#[derive(Clone, PartialEq, Message)]
pub struct HistoricalDataEnd {
    #[prost(int32, optional, tag = "1")]
    pub req_id: Option<i32>,
    #[prost(string, optional, tag = "2")]
    pub start_date_str: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub end_date_str: Option<String>,
}

/// One update of a keep-up-to-date request: the current bar as it stands.
#[derive(Clone, PartialEq, Message)]
pub struct HistoricalDataUpdate {
    #[prost(int32, optional, tag = "1")]
    pub req_id: Option<i32>,
    #[prost(message, optional, tag = "2")]
    pub historical_data_bar: Option<HistoricalDataBar>,
}

/// Cancel messages carry only the request id.
#[derive(Clone, PartialEq, Message)]
pub struct ById {
    #[prost(int32, optional, tag = "1")]
    pub req_id: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct HeadTimestampRequest {
    #[prost(int32, optional, tag = "1")]
    pub req_id: Option<i32>,
    #[prost(message, optional, tag = "2")]
    pub contract: Option<Contract>,
    #[prost(bool, optional, tag = "3")]
    pub use_rth: Option<bool>,
    #[prost(string, optional, tag = "4")]
    pub what_to_show: Option<String>,
    #[prost(int32, optional, tag = "5")]
    pub format_date: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct HeadTimestamp {
    #[prost(int32, optional, tag = "1")]
    pub req_id: Option<i32>,
    #[prost(string, optional, tag = "2")]
    pub head_timestamp: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CurrentTime {
    #[prost(int64, optional, tag = "1")]
    pub current_time: Option<i64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ErrorMessage {
    /// -1 when the error is not tied to a request.
    #[prost(int32, optional, tag = "1")]
    pub id: Option<i32>,
    #[prost(int64, optional, tag = "2")]
    pub error_time: Option<i64>,
    #[prost(int32, optional, tag = "3")]
    pub error_code: Option<i32>,
    #[prost(string, optional, tag = "4")]
    pub error_msg: Option<String>,
}
