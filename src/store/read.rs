//! Reading a run's database: the look-ups behind `sim show` and the
//! explorer.
//!
//! The file is opened read-only and immutable (SQLite's `immutable=1`: no
//! locks, no journal, nothing written next to it), so looking at a run
//! never changes its directory. Every look-up returns `Ok(None)` for an
//! unknown key.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Params, Row};

use super::view::*;
use super::{StoreError, CHAIN_SQLITE, SCHEMA_VERSION};

/// Most rows [`Store::blocks`] returns in one page.
pub const MAX_BLOCKS_PAGE: u32 = 1_000;

/// An open run database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

const BRIEF_COLS: &str = "hash, parent, height, miner, time_s, main_chain, txs, size_bytes";

fn brief(r: &Row<'_>) -> rusqlite::Result<BlockBrief> {
    Ok(BlockBrief {
        hash: r.get(0)?,
        parent: r.get(1)?,
        height: r.get(2)?,
        miner: r.get(3)?,
        time_s: r.get(4)?,
        main_chain: r.get::<_, i64>(5)? != 0,
        txs: r.get(6)?,
        size_bytes: r.get(7)?,
    })
}

/// A `file:` URI for `path` (the characters a URI gives meaning escaped).
fn uri(path: &Path) -> String {
    let mut s = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => s.push_str("%25"),
            '?' => s.push_str("%3f"),
            '#' => s.push_str("%23"),
            c => s.push(c),
        }
    }
    s.push_str("?immutable=1");
    s
}

impl Store {
    /// Opens `dir/chain.sqlite` read-only.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join(CHAIN_SQLITE);
        if !path.is_file() {
            return Err(StoreError::Missing(dir.to_path_buf()));
        }
        let sql = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(
            uri(&path),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql)?;
        let found: i32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if found != SCHEMA_VERSION {
            return Err(StoreError::Version { path, found });
        }
        Ok(Store { conn, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying connection (read-only), for queries of one's own.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// Every row `sql` returns, each through `map`.
    fn rows<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut s = self.conn.prepare_cached(sql).map_err(self.sql())?;
        let rows = s.query_map(params, map).map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// The first row `sql` returns through `map`, `None` if it returns none.
    fn optional_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, StoreError> {
        self.conn
            .query_row(sql, params, map)
            .optional()
            .map_err(self.sql())
    }

    fn fact(&self, key: &str) -> Result<String, StoreError> {
        Ok(self
            .optional_row("SELECT value FROM run WHERE key = ?1", [key], |r| r.get(0))?
            .unwrap_or_default())
    }

    fn count(&self, sql: &str) -> Result<u64, StoreError> {
        self.conn
            .query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(self.sql())
    }

    /// The run at a glance.
    pub fn overview(&self) -> Result<Overview, StoreError> {
        let num = |k: &str| -> Result<u64, StoreError> { Ok(self.fact(k)?.parse().unwrap_or(0)) };
        Ok(Overview {
            name: self.fact("name")?,
            seed: num("seed")?,
            forklab_version: self.fact("forklab_version")?,
            events: num("events")?,
            event_digest: self.fact("event_digest")?,
            nodes: num("nodes")?,
            main_chain_height: num("main_chain_height")? as u32,
            final_tip: self.fact("final_tip")?,
            blocks_mined: self.count("SELECT COUNT(*) - 1 FROM blocks")?,
            stale_blocks: self.count("SELECT COUNT(*) FROM blocks WHERE main_chain = 0")?,
            transactions: self.count("SELECT COUNT(*) FROM transactions")?,
            payments: self.count("SELECT COUNT(*) FROM payments")?,
            payments_confirmed: self.count("SELECT COUNT(*) FROM payments WHERE confirmed = 1")?,
            reorgs: self.count("SELECT COUNT(*) FROM reorgs")?,
            arrivals_recorded: self.fact("arrivals")? == "1",
            pow_ground: self.fact("pow_ground")? == "1",
            block_relay: BlockRelayView {
                mode: self.fact("block_relay_mode")?,
                modelled: self
                    .fact("block_relay_modelled")?
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect(),
                note: self.fact("block_relay_note")?,
            },
        })
    }

    /// Every block, in mining order (genesis first): the fork tree.
    pub fn all_blocks(&self) -> Result<Vec<BlockBrief>, StoreError> {
        self.rows(
            &format!("SELECT {BRIEF_COLS} FROM blocks ORDER BY id"),
            [],
            brief,
        )
    }

    /// Blocks with heights `from..=to` (main and stale), at most
    /// [`MAX_BLOCKS_PAGE`] heights.
    pub fn blocks(&self, from: u32, to: u32) -> Result<BlockList, StoreError> {
        let to = to.min(from.saturating_add(MAX_BLOCKS_PAGE - 1));
        let blocks = self.rows(
            &format!(
                "SELECT {BRIEF_COLS} FROM blocks WHERE height BETWEEN ?1 AND ?2 ORDER BY height, id"
            ),
            params![from, to],
            brief,
        )?;
        Ok(BlockList { from, to, blocks })
    }

    /// The main-chain block at `height`.
    pub fn main_hash_at(&self, height: u32) -> Result<Option<String>, StoreError> {
        self.optional_row(
            "SELECT hash FROM blocks WHERE height = ?1 AND main_chain = 1",
            [height],
            |r| r.get(0),
        )
    }

    fn main_height(&self) -> Result<u32, StoreError> {
        Ok(self.fact("main_chain_height")?.parse().unwrap_or(0))
    }

    /// A block by hash.
    pub fn block(&self, hash: &str) -> Result<Option<BlockView>, StoreError> {
        let row = self.optional_row(
            &format!(
                "SELECT {BRIEF_COLS}, id, version, merkle_root, header_time, bits, nonce, \
                 target, work, fees_sats, header_hex FROM blocks WHERE hash = ?1"
            ),
            [hash],
            |r| {
                Ok((
                    brief(r)?,
                    r.get::<_, i64>(8)?,
                    (
                        r.get(9)?,
                        r.get(10)?,
                        r.get(11)?,
                        r.get(12)?,
                        r.get(13)?,
                        r.get(14)?,
                        r.get(15)?,
                        r.get::<_, i64>(16)?,
                        r.get(17)?,
                    ),
                ))
            },
        )?;
        let Some((brief, id, h)) = row else {
            return Ok(None);
        };
        let top = self.main_height()?;
        let children = self.rows(
            "SELECT hash FROM blocks WHERE parent = ?1 ORDER BY id",
            [hash],
            |r| r.get(0),
        )?;
        let transactions = self.rows(
            "SELECT t.txid, t.coinbase, t.size_bytes, t.value_out_sats, t.fee_sats \
             FROM block_txs b JOIN transactions t ON t.txid = b.txid \
             WHERE b.block = ?1 ORDER BY b.position",
            [hash],
            |r| {
                Ok(TxBrief {
                    txid: r.get(0)?,
                    coinbase: r.get::<_, i64>(1)? != 0,
                    size_bytes: r.get(2)?,
                    value_out_sats: r.get::<_, i64>(3)? as u64,
                    fee_sats: r.get::<_, Option<i64>>(4)?.map(|f| f as u64),
                })
            },
        )?;
        let arrivals = if self.fact("arrivals")? == "1" {
            Some(self.rows(
                "SELECT node, delay_ms FROM arrivals WHERE block_id = ?1 ORDER BY rowid",
                [id],
                |r| {
                    Ok(Arrival {
                        node: r.get(0)?,
                        delay_ms: r.get(1)?,
                    })
                },
            )?)
        } else {
            None
        };
        Ok(Some(BlockView {
            confirmations: if brief.main_chain {
                top + 1 - brief.height
            } else {
                0
            },
            brief,
            version: h.0,
            merkle_root: h.1,
            header_time: h.2,
            bits: h.3,
            nonce: h.4,
            target: h.5,
            work: h.6,
            fees_sats: h.7 as u64,
            header_hex: h.8,
            children,
            transactions,
            arrivals,
        }))
    }

    /// A transaction by txid.
    pub fn tx(&self, txid: &str) -> Result<Option<TxView>, StoreError> {
        let row = self.optional_row(
            "SELECT size_bytes, coinbase, value_out_sats, fee_sats, block, height, raw \
             FROM transactions WHERE txid = ?1",
            [txid],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<u32>>(5)?,
                    r.get::<_, Vec<u8>>(6)?,
                ))
            },
        )?;
        let Some((size, coinbase, value_out, fee, block, height, raw)) = row else {
            return Ok(None);
        };
        let top = self.main_height()?;
        let blocks = self.rows(
            "SELECT b.hash, b.height, b.main_chain FROM block_txs x \
             JOIN blocks b ON b.hash = x.block WHERE x.txid = ?1 ORDER BY b.id",
            [txid],
            |r| {
                Ok(Holder {
                    hash: r.get(0)?,
                    height: r.get(1)?,
                    main_chain: r.get::<_, i64>(2)? != 0,
                })
            },
        )?;
        let inputs = self.rows(
            "SELECT vin, prev_txid, prev_vout, value_sats, address, script_sig_asm, \
             sig_valid, sig_error FROM inputs WHERE txid = ?1 ORDER BY vin",
            [txid],
            |r| {
                Ok(InputView {
                    vin: r.get(0)?,
                    prev_txid: r.get(1)?,
                    prev_vout: r.get(2)?,
                    value_sats: r.get::<_, Option<i64>>(3)?.map(|v| v as u64),
                    address: r.get(4)?,
                    script_sig_asm: r.get(5)?,
                    sig_valid: r.get::<_, Option<i64>>(6)?.map(|v| v != 0),
                    sig_error: r.get(7)?,
                })
            },
        )?;
        let outputs = self.rows(
            "SELECT vout, value_sats, script_asm, address, spent_by FROM outputs \
             WHERE txid = ?1 ORDER BY vout",
            [txid],
            |r| {
                Ok(OutputView {
                    vout: r.get(0)?,
                    value_sats: r.get::<_, i64>(1)? as u64,
                    script_asm: r.get(2)?,
                    address: r.get(3)?,
                    spent_by: r.get(4)?,
                })
            },
        )?;
        Ok(Some(TxView {
            txid: txid.to_string(),
            size_bytes: size as u64,
            coinbase: coinbase != 0,
            value_out_sats: value_out as u64,
            fee_sats: fee.map(|f| f as u64),
            confirmations: height.map(|h| top + 1 - h).unwrap_or(0),
            block,
            height,
            blocks,
            inputs,
            outputs,
            hex: hex::encode(raw),
        }))
    }

    /// An address's totals, unspent outputs and history.
    pub fn address(&self, address: &str) -> Result<Option<AddressView>, StoreError> {
        let row = self.optional_row(
            "SELECT wallet, received_sats, spent_sats, balance_sats FROM addresses \
             WHERE address = ?1",
            [address],
            |r| {
                Ok((
                    r.get::<_, Option<u32>>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            },
        )?;
        let Some((wallet, received, spent, balance)) = row else {
            return Ok(None);
        };
        let utxos = self.rows(
            "SELECT o.txid, o.vout, o.value_sats, t.height FROM outputs o \
             JOIN transactions t ON t.txid = o.txid \
             WHERE o.address = ?1 AND o.spent_by IS NULL AND t.height IS NOT NULL \
             ORDER BY t.height, t.id, o.vout",
            [address],
            |r| {
                Ok(Utxo {
                    txid: r.get(0)?,
                    vout: r.get(1)?,
                    value_sats: r.get::<_, i64>(2)? as u64,
                    height: r.get(3)?,
                })
            },
        )?;
        let history = self.rows(
            "SELECT height, block, time_s, txid, received_sats, spent_sats, balance_sats \
             FROM address_history WHERE address = ?1 ORDER BY seq",
            [address],
            |r| {
                Ok(HistoryRow {
                    height: r.get(0)?,
                    block: r.get(1)?,
                    time_s: r.get(2)?,
                    txid: r.get(3)?,
                    received_sats: r.get::<_, i64>(4)? as u64,
                    spent_sats: r.get::<_, i64>(5)? as u64,
                    balance_sats: r.get::<_, i64>(6)? as u64,
                })
            },
        )?;
        Ok(Some(AddressView {
            address: address.to_string(),
            wallet,
            received_sats: received as u64,
            spent_sats: spent as u64,
            balance_sats: balance as u64,
            utxos,
            history,
        }))
    }

    /// A node: peers, blocks mined, reorgs, tip history.
    pub fn node(&self, node: u32) -> Result<Option<NodeView>, StoreError> {
        let row = self.optional_row(
            "SELECT role, region, hashrate_hps, final_height, final_tip FROM nodes \
             WHERE node = ?1",
            [node],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        let Some((role, region, hashrate_hps, final_height, final_tip)) = row else {
            return Ok(None);
        };
        let peers = self.rows(
            "SELECT peer FROM peers WHERE node = ?1 ORDER BY peer",
            [node],
            |r| r.get(0),
        )?;
        let mined = self.rows(
            &format!("SELECT {BRIEF_COLS} FROM blocks WHERE miner = ?1 ORDER BY id"),
            [node],
            brief,
        )?;
        let reorgs = self.rows(
            "SELECT time_s, depth, old_tip, new_tip, old_height, new_height FROM reorgs \
             WHERE node = ?1 ORDER BY rowid",
            [node],
            |r| {
                Ok(ReorgView {
                    time_s: r.get(0)?,
                    depth: r.get(1)?,
                    old_tip: r.get(2)?,
                    new_tip: r.get(3)?,
                    old_height: r.get(4)?,
                    new_height: r.get(5)?,
                })
            },
        )?;
        let tips = if self.fact("tips")? == "1" {
            Some(self.rows(
                "SELECT time_s, tip, height FROM tips WHERE node = ?1 ORDER BY rowid",
                [node],
                |r| {
                    Ok(TipView {
                        time_s: r.get(0)?,
                        tip: r.get(1)?,
                        height: r.get(2)?,
                    })
                },
            )?)
        } else {
            None
        };
        Ok(Some(NodeView {
            node,
            role,
            region,
            hashrate_hps,
            peers,
            final_height,
            final_tip,
            mined,
            reorgs,
            tips,
        }))
    }

    /// Where a search term leads: a block hash, a txid, an address, a
    /// main-chain height (digits), or `node N`.
    pub fn search(&self, q: &str) -> Result<Option<SearchHit>, StoreError> {
        let q = q.trim();
        let hit = |kind: &str, key: String| {
            Some(SearchHit {
                kind: kind.into(),
                key,
            })
        };
        if let Some(n) = q.strip_prefix("node").map(str::trim) {
            if let Ok(n) = n.parse::<u32>() {
                return Ok(if self.node(n)?.is_some() {
                    hit("node", n.to_string())
                } else {
                    None
                });
            }
        }
        if !q.is_empty() && q.len() <= 10 && q.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(match q.parse::<u32>().ok() {
                Some(h) => self.main_hash_at(h)?.and_then(|b| hit("block", b)),
                None => None,
            });
        }
        let exists = |sql: &str, key: &str| -> Result<bool, StoreError> {
            Ok(self.optional_row(sql, [key], |_| Ok(()))?.is_some())
        };
        if q.len() == 64 && q.bytes().all(|b| b.is_ascii_hexdigit()) {
            let q = q.to_ascii_lowercase();
            if exists("SELECT 1 FROM blocks WHERE hash = ?1", &q)? {
                return Ok(hit("block", q));
            }
            if exists("SELECT 1 FROM transactions WHERE txid = ?1", &q)? {
                return Ok(hit("tx", q));
            }
            return Ok(None);
        }
        Ok(
            if exists("SELECT 1 FROM addresses WHERE address = ?1", q)? {
                hit("address", q.into())
            } else {
                None
            },
        )
    }
}
