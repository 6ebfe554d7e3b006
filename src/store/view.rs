//! What a look-up in a run's database returns: plain serde structs shared
//! by `sim show --json` and the explorer's JSON API (their OpenAPI schemas
//! are derived from these same types).

use serde::Serialize;
use utoipa::ToSchema;

/// A run at a glance (`/api/overview`).
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct Overview {
    /// Scenario name.
    pub name: String,
    /// Master seed.
    pub seed: u64,
    /// forklab version that made the run.
    pub forklab_version: String,
    /// Events processed.
    pub events: u64,
    /// Digest of the event stream.
    pub event_digest: String,
    /// Nodes in the run.
    pub nodes: u64,
    /// Height of the final main chain.
    pub main_chain_height: u32,
    /// Tip of the final main chain.
    pub final_tip: String,
    /// Blocks mined (genesis excluded).
    pub blocks_mined: u64,
    /// Mined blocks not on the final main chain.
    pub stale_blocks: u64,
    /// Transactions in any block (coinbases included).
    pub transactions: u64,
    /// Payments the workload issued.
    pub payments: u64,
    /// Of those, on the final main chain.
    pub payments_confirmed: u64,
    /// Reorgs over all nodes.
    pub reorgs: u64,
    /// Whether per-node arrival times were recorded.
    pub arrivals_recorded: bool,
    /// Whether nonces were really ground.
    pub pow_ground: bool,
    /// How blocks were relayed, and which part of it was modelled.
    pub block_relay: BlockRelayView,
}

/// How a run's blocks travelled between nodes: the manifest's
/// `block_relay`, as the run's database stores it (`run` table keys
/// `block_relay_mode`, `block_relay_modelled`, `block_relay_note`).
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockRelayView {
    /// `compact` (BIP152 between the nodes that speak it) or
    /// `whole_blocks` (`inv`, `getdata`, `block` on every hop).
    pub mode: String,
    /// The modelled (not simulated message by message) parts of block
    /// relay: `compact_block_padding` when compact relay carried padded
    /// blocks (`consensus.block_fill_bytes`), else empty.
    pub modelled: Vec<String>,
    /// Plain-words explanation.
    pub note: String,
}

impl BlockRelayView {
    /// The relay mode in plain words, e.g. `compact (BIP152)`.
    pub fn mode_words(&self) -> String {
        match self.mode.as_str() {
            "compact" => "compact (BIP152)".into(),
            "whole_blocks" => "whole blocks (no compact relay)".into(),
            other => other.into(),
        }
    }

    /// What was modelled rather than computed, in plain words (one phrase
    /// per entry of `modelled`, joined by "; "), or `None` when every
    /// message was simulated.
    pub fn modelled_words(&self) -> Option<String> {
        if self.modelled.is_empty() {
            return None;
        }
        let words: Vec<String> = self
            .modelled
            .iter()
            .map(|m| match m.as_str() {
                "compact_block_padding" => {
                    "reconstruction failures of padded blocks (SimBlock's rates)".to_string()
                }
                other => other.replace('_', " "),
            })
            .collect();
        Some(words.join("; "))
    }
}

/// A block in a list or the fork tree.
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq)]
pub struct BlockBrief {
    /// Block hash.
    pub hash: String,
    /// Parent hash.
    pub parent: String,
    /// Height.
    pub height: u32,
    /// Miner node, absent for genesis.
    pub miner: Option<i64>,
    /// Simulated time found, seconds.
    pub time_s: f64,
    /// On the final main chain.
    pub main_chain: bool,
    /// Transactions, coinbase included.
    pub txs: u32,
    /// Size in bytes.
    pub size_bytes: u64,
}

/// A page of blocks (`/api/blocks`).
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct BlockList {
    /// Lowest height listed.
    pub from: u32,
    /// Highest height listed.
    pub to: u32,
    /// The blocks with heights in `from..=to`, main and stale, by height
    /// then mining order.
    pub blocks: Vec<BlockBrief>,
}

/// One node's first arrival of a block.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct Arrival {
    /// Node.
    pub node: u32,
    /// Milliseconds after the block was found.
    pub delay_ms: f64,
}

/// A transaction in a block's list.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct TxBrief {
    /// Transaction id.
    pub txid: String,
    /// Whether it is the coinbase.
    pub coinbase: bool,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Sum of outputs, satoshis.
    pub value_out_sats: u64,
    /// Fee, satoshis (absent for a coinbase).
    pub fee_sats: Option<u64>,
}

/// A block with its header and transactions (`/api/block/{hash}`).
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct BlockView {
    /// List fields.
    #[serde(flatten)]
    pub brief: BlockBrief,
    /// Confirmations on the final main chain (0 if stale).
    pub confirmations: u32,
    /// Header version.
    pub version: i32,
    /// Merkle root.
    pub merkle_root: String,
    /// Header time, Unix seconds.
    pub header_time: u32,
    /// Compact target.
    pub bits: String,
    /// Nonce.
    pub nonce: u32,
    /// Target, 64 hex digits.
    pub target: String,
    /// Expected hashes for a block at this target, hex.
    pub work: String,
    /// Sum of its transactions' fees, satoshis.
    pub fees_sats: u64,
    /// The raw 80-byte header, hex (for `sim header`).
    pub header_hex: String,
    /// Blocks built on this one.
    pub children: Vec<String>,
    /// Its transactions in block order.
    pub transactions: Vec<TxBrief>,
    /// Nodes that had it, first arrival each, in arrival order; absent when
    /// arrivals were not recorded (large runs).
    pub arrivals: Option<Vec<Arrival>>,
}

/// A transaction input.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct InputView {
    /// Input index.
    pub vin: u32,
    /// Spent output's transaction.
    pub prev_txid: String,
    /// Spent output's index.
    pub prev_vout: u32,
    /// Spent value, satoshis (absent for a coinbase).
    pub value_sats: Option<u64>,
    /// Spending address (absent for a coinbase).
    pub address: Option<String>,
    /// Unlocking script, asm.
    pub script_sig_asm: String,
    /// Signature verdict (absent for a coinbase).
    pub sig_valid: Option<bool>,
    /// Why the signature does not verify.
    pub sig_error: Option<String>,
}

/// A transaction output.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct OutputView {
    /// Output index.
    pub vout: u32,
    /// Value, satoshis.
    pub value_sats: u64,
    /// Locking script, asm (cut when long).
    pub script_asm: String,
    /// Address paid, if P2PKH.
    pub address: Option<String>,
    /// Main-chain transaction spending it.
    pub spent_by: Option<String>,
}

/// A block holding a transaction.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct Holder {
    /// Block hash.
    pub hash: String,
    /// Its height.
    pub height: u32,
    /// On the final main chain.
    pub main_chain: bool,
}

/// A transaction (`/api/tx/{txid}`).
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct TxView {
    /// Transaction id.
    pub txid: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Whether it is a coinbase.
    pub coinbase: bool,
    /// Sum of outputs, satoshis.
    pub value_out_sats: u64,
    /// Fee, satoshis (absent for a coinbase).
    pub fee_sats: Option<u64>,
    /// Confirming main-chain block.
    pub block: Option<String>,
    /// Its height.
    pub height: Option<u32>,
    /// Confirmations on the final main chain (0 if unconfirmed).
    pub confirmations: u32,
    /// Every block holding it, main and stale.
    pub blocks: Vec<Holder>,
    /// Inputs.
    pub inputs: Vec<InputView>,
    /// Outputs.
    pub outputs: Vec<OutputView>,
    /// The raw transaction, hex (for `sim tx`).
    pub hex: String,
}

/// One step of an address's history.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct HistoryRow {
    /// Block height.
    pub height: u32,
    /// Block hash.
    pub block: String,
    /// Simulated time the block was found, seconds.
    pub time_s: f64,
    /// Transaction.
    pub txid: String,
    /// Received in it, satoshis.
    pub received_sats: u64,
    /// Spent in it, satoshis.
    pub spent_sats: u64,
    /// Balance after it, satoshis.
    pub balance_sats: u64,
}

/// An unspent output.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct Utxo {
    /// Transaction.
    pub txid: String,
    /// Output index.
    pub vout: u32,
    /// Value, satoshis.
    pub value_sats: u64,
    /// Height of the block holding it.
    pub height: u32,
}

/// An address (`/api/address/{address}`).
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct AddressView {
    /// The address.
    pub address: String,
    /// Workload wallet owning it, if any.
    pub wallet: Option<u32>,
    /// Received on the main chain, satoshis.
    pub received_sats: u64,
    /// Spent on the main chain, satoshis.
    pub spent_sats: u64,
    /// Balance at the end, satoshis.
    pub balance_sats: u64,
    /// Unspent outputs at the end.
    pub utxos: Vec<Utxo>,
    /// Main-chain transactions touching it, in chain order.
    pub history: Vec<HistoryRow>,
}

/// A reorg at a node.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct ReorgView {
    /// Simulated time, seconds.
    pub time_s: f64,
    /// Blocks disconnected.
    pub depth: u32,
    /// Tip before.
    pub old_tip: String,
    /// Tip after.
    pub new_tip: String,
    /// Height before.
    pub old_height: u32,
    /// Height after.
    pub new_height: u32,
}

/// A tip change at a node.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct TipView {
    /// Simulated time, seconds.
    pub time_s: f64,
    /// New tip.
    pub tip: String,
    /// Its height.
    pub height: u32,
}

/// A node (`/api/node/{n}`).
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct NodeView {
    /// Node id.
    pub node: u32,
    /// miner, relay or light.
    pub role: String,
    /// Region name.
    pub region: String,
    /// Hashrate at the end.
    pub hashrate_hps: f64,
    /// Peers at the end.
    pub peers: Vec<u32>,
    /// Final tip height.
    pub final_height: u32,
    /// Final tip.
    pub final_tip: String,
    /// Blocks it mined, in mining order.
    pub mined: Vec<BlockBrief>,
    /// Its reorgs.
    pub reorgs: Vec<ReorgView>,
    /// Its tip changes (absent when tips were not recorded).
    pub tips: Option<Vec<TipView>>,
}

/// Where a search term leads (`/api/search`).
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// `block`, `tx`, `address` or `node`.
    pub kind: String,
    /// The key to look it up by (hash, txid, address, node id).
    pub key: String,
}

/// An error answer.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct ErrorBody {
    /// What went wrong, one line.
    pub error: String,
}
