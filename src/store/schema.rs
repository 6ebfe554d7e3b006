//! The tables of `chain.sqlite`, column by column.
//!
//! [`TABLES`] is the single source: the builder creates the tables from it,
//! and a test checks that the README documents every table and column.
//! Conventions as in the CSVs: hashes and txids are reversed hex, amounts
//! satoshis, times simulated seconds (`time_s`) or milliseconds (`*_ms`),
//! node ids from 0. "Main chain" is the final main chain of the run.

/// One column: name, SQL type and constraints, meaning.
pub type Column = (&'static str, &'static str, &'static str);

/// One table of the database.
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// What one row is.
    pub doc: &'static str,
    /// Columns in order.
    pub columns: &'static [Column],
    /// Trailing table constraint (e.g. a composite primary key), or "".
    pub constraint: &'static str,
}

impl Table {
    /// The `CREATE TABLE` statement.
    pub fn create_sql(&self) -> String {
        let mut cols: Vec<String> = self
            .columns
            .iter()
            .map(|(n, t, _)| format!("{n} {t}"))
            .collect();
        if !self.constraint.is_empty() {
            cols.push(self.constraint.to_string());
        }
        format!("CREATE TABLE {} ({})", self.name, cols.join(", "))
    }

    /// `INSERT INTO name VALUES (?1, …)` with one placeholder per column.
    pub fn insert_sql(&self) -> String {
        let marks: Vec<String> = (1..=self.columns.len()).map(|i| format!("?{i}")).collect();
        format!("INSERT INTO {} VALUES ({})", self.name, marks.join(", "))
    }
}

/// Indexes, created after the bulk insert (for the explorer's look-ups).
pub const INDEXES: &[&str] = &[
    "CREATE UNIQUE INDEX blocks_hash ON blocks(hash)",
    "CREATE INDEX blocks_height ON blocks(height)",
    "CREATE INDEX blocks_miner ON blocks(miner)",
    "CREATE UNIQUE INDEX transactions_txid ON transactions(txid)",
    "CREATE INDEX block_txs_txid ON block_txs(txid)",
    "CREATE INDEX inputs_prev ON inputs(prev_txid, prev_vout)",
    "CREATE INDEX inputs_address ON inputs(address)",
    "CREATE INDEX outputs_address ON outputs(address)",
    "CREATE INDEX address_history_address ON address_history(address, seq)",
    "CREATE INDEX payments_txid ON payments(txid)",
    "CREATE INDEX reorgs_node ON reorgs(node)",
    "CREATE INDEX tips_node ON tips(node)",
    "CREATE INDEX arrivals_block ON arrivals(block_id)",
];

/// Every table, in creation order.
pub const TABLES: &[Table] = &[
    Table {
        name: "run",
        doc: "facts about the run, one per key: format_version, forklab_version, name, seed, events, event_digest, final_tip, main_chain_height, nodes, arrivals (1 if the arrivals table was filled), tips (1 if tip changes were recorded), pow_ground, block_relay_mode (compact or whole_blocks), block_relay_modelled (the modelled parts of block relay, comma-separated: compact_block_padding, or empty when every message was simulated), block_relay_note (in words), scenario (the resolved scenario as JSON)",
        columns: &[
            ("key", "TEXT PRIMARY KEY NOT NULL", "the fact's name"),
            ("value", "TEXT NOT NULL", "its value, as text"),
        ],
        constraint: "",
    },
    Table {
        name: "blocks",
        doc: "every block of the run, main chain and stale, genesis first, in the order they were found (the rows of blocks.csv)",
        columns: &[
            ("id", "INTEGER PRIMARY KEY", "mining order, genesis 0 (the row of blocks.csv)"),
            ("hash", "TEXT NOT NULL", "block hash"),
            ("parent", "TEXT NOT NULL", "previous block's hash (all zeros for genesis)"),
            ("height", "INTEGER NOT NULL", "height, genesis 0"),
            ("miner", "INTEGER", "node that mined it; NULL for genesis"),
            ("time_s", "REAL NOT NULL", "simulated time it was found"),
            ("main_chain", "INTEGER NOT NULL", "1 if on the final main chain, 0 if stale"),
            ("txs", "INTEGER NOT NULL", "transactions, coinbase included"),
            ("size_bytes", "INTEGER NOT NULL", "serialized size"),
            ("fees_sats", "INTEGER NOT NULL", "fees of its transactions (what the coinbase could claim beyond the subsidy)"),
            ("version", "INTEGER NOT NULL", "header version"),
            ("merkle_root", "TEXT NOT NULL", "header Merkle root"),
            ("header_time", "INTEGER NOT NULL", "header timestamp, Unix seconds"),
            ("bits", "TEXT NOT NULL", "compact target, as 0x-prefixed hex"),
            ("nonce", "INTEGER NOT NULL", "header nonce"),
            ("target", "TEXT NOT NULL", "the target the bits encode, 64 hex digits"),
            ("work", "TEXT NOT NULL", "expected hashes to find a block at that target, hex"),
            ("header_hex", "TEXT NOT NULL", "the raw 80-byte header, hex (decode with `sim header`)"),
        ],
        constraint: "",
    },
    Table {
        name: "transactions",
        doc: "every transaction in any block of the run, once, in order of first appearance",
        columns: &[
            ("id", "INTEGER PRIMARY KEY", "order of first appearance (by block id, then position)"),
            ("txid", "TEXT NOT NULL", "transaction id"),
            ("raw", "BLOB NOT NULL", "the serialized transaction, as bytes (half the size of hex; `hex(raw)` in SQL or `.hex()` in Python gives the hex `sim tx` decodes)"),
            ("size_bytes", "INTEGER NOT NULL", "serialized size"),
            ("coinbase", "INTEGER NOT NULL", "1 for a coinbase"),
            ("inputs", "INTEGER NOT NULL", "number of inputs"),
            ("outputs", "INTEGER NOT NULL", "number of outputs"),
            ("value_out_sats", "INTEGER NOT NULL", "sum of output values"),
            ("fee_sats", "INTEGER", "inputs minus outputs; NULL for a coinbase"),
            ("block", "TEXT", "main-chain block holding it; NULL if only stale blocks hold it"),
            ("height", "INTEGER", "that block's height; NULL if none"),
        ],
        constraint: "",
    },
    Table {
        name: "block_txs",
        doc: "which block holds which transaction (a transaction may be in a main-chain block and in stale ones)",
        columns: &[
            ("block", "TEXT NOT NULL", "block hash"),
            ("position", "INTEGER NOT NULL", "index in the block, coinbase 0"),
            ("txid", "TEXT NOT NULL", "transaction id"),
        ],
        constraint: "PRIMARY KEY (block, position)",
    },
    Table {
        name: "inputs",
        doc: "every input of every transaction",
        columns: &[
            ("txid", "TEXT NOT NULL", "spending transaction"),
            ("vin", "INTEGER NOT NULL", "input index"),
            ("prev_txid", "TEXT NOT NULL", "the spent output's transaction (all zeros for a coinbase)"),
            ("prev_vout", "INTEGER NOT NULL", "the spent output's index (4294967295 for a coinbase)"),
            ("value_sats", "INTEGER", "value of the spent output; NULL for a coinbase"),
            ("address", "TEXT", "address the spent output paid (the spender); NULL for a coinbase or a non-P2PKH output"),
            ("script_sig_asm", "TEXT NOT NULL", "unlocking script, asm"),
            ("sig_valid", "INTEGER", "1 if the P2PKH signature verifies against the spent output, 0 if not; NULL for a coinbase"),
            ("sig_error", "TEXT", "why it does not verify; NULL if it does"),
        ],
        constraint: "PRIMARY KEY (txid, vin)",
    },
    Table {
        name: "outputs",
        doc: "every output of every transaction",
        columns: &[
            ("txid", "TEXT NOT NULL", "transaction"),
            ("vout", "INTEGER NOT NULL", "output index"),
            ("value_sats", "INTEGER NOT NULL", "value"),
            ("script_asm", "TEXT NOT NULL", "locking script, asm (cut after 200 characters)"),
            ("address", "TEXT", "P2PKH address it pays; NULL otherwise (e.g. OP_RETURN padding)"),
            ("spent_by", "TEXT", "main-chain transaction spending it; NULL if unspent on the main chain"),
            ("spent_vin", "INTEGER", "that transaction's input index"),
        ],
        constraint: "PRIMARY KEY (txid, vout)",
    },
    Table {
        name: "addresses",
        doc: "every address paid on the main chain (genesis included), with its totals at the end",
        columns: &[
            ("address", "TEXT PRIMARY KEY NOT NULL", "P2PKH address"),
            ("wallet", "INTEGER", "workload wallet owning it; NULL for miners and attackers"),
            ("received_sats", "INTEGER NOT NULL", "sum of main-chain outputs paying it"),
            ("spent_sats", "INTEGER NOT NULL", "sum of those spent on the main chain"),
            ("balance_sats", "INTEGER NOT NULL", "received minus spent"),
            ("utxos", "INTEGER NOT NULL", "unspent outputs at the end"),
            ("txs", "INTEGER NOT NULL", "main-chain transactions touching it"),
        ],
        constraint: "",
    },
    Table {
        name: "address_history",
        doc: "one row per address and main-chain transaction touching it, in chain order: balance over time",
        columns: &[
            ("address", "TEXT NOT NULL", "P2PKH address"),
            ("seq", "INTEGER NOT NULL", "order within the address's history, from 0"),
            ("height", "INTEGER NOT NULL", "block height"),
            ("block", "TEXT NOT NULL", "block hash"),
            ("time_s", "REAL NOT NULL", "simulated time the block was found"),
            ("txid", "TEXT NOT NULL", "transaction"),
            ("received_sats", "INTEGER NOT NULL", "paid to the address by this transaction"),
            ("spent_sats", "INTEGER NOT NULL", "spent from the address by this transaction"),
            ("balance_sats", "INTEGER NOT NULL", "balance after it"),
        ],
        constraint: "",
    },
    Table {
        name: "payments",
        doc: "every payment the workload issued (the rows of payments.csv)",
        columns: &[
            ("time_s", "REAL NOT NULL", "simulated time issued"),
            ("from_wallet", "INTEGER NOT NULL", "paying wallet"),
            ("to_wallet", "INTEGER NOT NULL", "receiving wallet"),
            ("txid", "TEXT NOT NULL", "transaction id"),
            ("amount_sats", "INTEGER NOT NULL", "amount paid"),
            ("confirmed", "INTEGER NOT NULL", "1 if on the main chain"),
            ("block", "TEXT", "main-chain block holding it; NULL if none"),
            ("height", "INTEGER", "that block's height; NULL if none"),
            ("fee_sats", "INTEGER", "fee; NULL if the transaction is in no block"),
        ],
        constraint: "",
    },
    Table {
        name: "reorgs",
        doc: "every reorg at every node (the rows of reorgs.csv)",
        columns: &[
            ("node", "INTEGER NOT NULL", "node"),
            ("time_s", "REAL NOT NULL", "simulated time"),
            ("depth", "INTEGER NOT NULL", "blocks disconnected"),
            ("old_tip", "TEXT NOT NULL", "tip before"),
            ("new_tip", "TEXT NOT NULL", "tip after"),
            ("old_height", "INTEGER NOT NULL", "height before"),
            ("new_height", "INTEGER NOT NULL", "height after"),
        ],
        constraint: "",
    },
    Table {
        name: "tips",
        doc: "every tip change at every node (the rows of tips.csv; empty when tips are not recorded, see metrics.tips)",
        columns: &[
            ("node", "INTEGER NOT NULL", "node"),
            ("time_s", "REAL NOT NULL", "simulated time"),
            ("tip", "TEXT NOT NULL", "new tip"),
            ("height", "INTEGER NOT NULL", "its height"),
        ],
        constraint: "",
    },
    Table {
        name: "nodes",
        doc: "one row per node (the rows of nodes.csv)",
        columns: &[
            ("node", "INTEGER PRIMARY KEY", "node id"),
            ("role", "TEXT NOT NULL", "miner, relay or light"),
            ("region", "TEXT NOT NULL", "region name (empty without regions)"),
            ("hashrate_hps", "REAL NOT NULL", "hashrate at the end"),
            ("peers", "INTEGER NOT NULL", "number of peers at the end"),
            ("blocks_mined", "INTEGER NOT NULL", "blocks it mined"),
            ("blocks_main", "INTEGER NOT NULL", "of those, on the main chain"),
            ("reorgs", "INTEGER NOT NULL", "reorgs it went through"),
            ("deepest_reorg", "INTEGER NOT NULL", "deepest of them"),
            ("final_height", "INTEGER NOT NULL", "tip height at the end"),
            ("final_tip", "TEXT NOT NULL", "tip at the end"),
        ],
        constraint: "",
    },
    Table {
        name: "peers",
        doc: "the peer links at the end of the run, both directions",
        columns: &[
            ("node", "INTEGER NOT NULL", "node"),
            ("peer", "INTEGER NOT NULL", "one of its peers"),
        ],
        constraint: "PRIMARY KEY (node, peer)",
    },
    Table {
        name: "arrivals",
        doc: "when each full node first had each block (empty above 1,000 nodes, see the run table's arrivals key)",
        columns: &[
            ("block_id", "INTEGER NOT NULL", "the block's id in blocks"),
            ("node", "INTEGER NOT NULL", "node"),
            ("delay_ms", "REAL NOT NULL", "time from the block being found to its arrival (0 at its miner)"),
        ],
        constraint: "",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_and_column_is_documented_in_the_readme() {
        let readme = include_str!("../../README.md");
        for t in TABLES {
            assert!(
                readme.contains(&format!("`{}`", t.name)),
                "README lacks table {}",
                t.name
            );
            for (c, _, _) in t.columns {
                assert!(
                    readme.contains(&format!("`{}.{c}`", t.name)),
                    "README lacks column {}.{c}",
                    t.name
                );
            }
        }
    }
}
