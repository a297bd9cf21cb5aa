//! `torg import catalogue FILE.csv` and `torg import crosses FILE.csv` (docs/IMPORT.md): bulk loads
//! from CSV with a progress bar and a summary of rows loaded and rejected, with line numbers.
//!
//! The header row names the columns (any order, case ignored). The separator is `;` or `,`, whichever
//! the header line has more of. A file that is valid UTF-8 (with or without a BOM) is read as UTF-8,
//! anything else as Windows-1251. A header missing a required column is a fatal error; a row with a bad
//! value is rejected with its line number and the reason, and the other rows are loaded. Parsing runs on
//! a thread of its own while the previous batch is written, in batches of [`BATCH`] catalogue rows (or
//! [`CROSS_BATCH`] cross-references) per transaction.

use anyhow::Context;
use clap::{Args, Subcommand};
use csv::StringRecord;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;
use torg_domain::catalogue::{Availability, normalize_brand, normalize_number};
use torg_store::{CatalogueRow, Cross, Store};

/// Catalogue rows per transaction. Rows in no particular order dirty index pages all over the file, and
/// each commit writes its dirty pages to the WAL and checkpoints them: 1,000,000 shuffled rows took 50 s
/// of CPU in batches of 5,000 and 35 s in batches of 20,000 (sorted rows cost the same either way).
pub const BATCH: usize = 20_000;

/// Cross-references per transaction: they are small, and sorted within a batch, so larger batches
/// touch the index in order rather than at random.
pub const CROSS_BATCH: usize = 50_000;

/// Rejected lines listed in the summary; the rest are counted.
pub const LISTED_REJECTIONS: usize = 100;

/// The database option, as every command takes it.
#[derive(Debug, Clone, Args)]
pub struct ImportDb {
    /// Database: `sqlite:PATH` (created on first run) or `postgres://…`.
    #[arg(long, env = "TORG_DATABASE_URL", default_value = "sqlite:torg.db", global = true)]
    database: String,
    /// Also write the import's counts (`torg_import_rows_total`) as Prometheus text to this file, for
    /// node_exporter's textfile collector: an import is a process of its own, which no scrape reaches.
    #[arg(long, global = true, value_name = "FILE")]
    metrics_file: Option<PathBuf>,
}

/// What to import.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Load parts, stock and prices per warehouse: columns article, brand, name, warehouse, quantity,
    /// price, and optionally min_qty, period_min, period_max, description, site.
    Catalogue {
        #[command(flatten)]
        db: ImportDb,
        /// The CSV file (`;` or `,` separated, UTF-8 or Windows-1251, with a header row).
        file: PathBuf,
    },
    /// Load cross-references (stored both ways): columns article, brand, cross_article, cross_brand.
    Crosses {
        #[command(flatten)]
        db: ImportDb,
        /// The CSV file (`;` or `,` separated, UTF-8 or Windows-1251, with a header row).
        file: PathBuf,
    },
    /// Load brand aliases: columns alias, brand (`MAHLE;KNECHT/MAHLE`). Parts and crosses stored under an
    /// alias move to the brand.
    Brands {
        #[command(flatten)]
        db: ImportDb,
        /// The CSV file (`;` or `,` separated, UTF-8 or Windows-1251, with a header row).
        file: PathBuf,
    },
}

const CATALOGUE_REQUIRED: &[&str] = &["article", "brand", "name", "warehouse", "quantity", "price"];
const CATALOGUE_OPTIONAL: &[&str] = &["min_qty", "period_min", "period_max", "description", "site"];
const CROSSES_REQUIRED: &[&str] = &["article", "brand", "cross_article", "cross_brand"];
const BRANDS_REQUIRED: &[&str] = &["alias", "brand"];

/// Runs an import command.
pub async fn run(command: ImportCommand) -> anyhow::Result<()> {
    let (ImportCommand::Catalogue { db, .. } | ImportCommand::Crosses { db, .. } | ImportCommand::Brands { db, .. }) =
        &command;
    let metrics = db.metrics_file.clone().map(|path| (path, torg_http::telemetry::install()));
    match command {
        ImportCommand::Catalogue { db, file } => catalogue(&db.database, &file).await?,
        ImportCommand::Crosses { db, file } => crosses(&db.database, &file).await?,
        ImportCommand::Brands { db, file } => brands(&db.database, &file).await?,
    }
    if let Some((path, handle)) = metrics {
        // Written beside the target and renamed over it, so a collector never reads half a file.
        let partial = path.with_extension("prom.partial");
        std::fs::write(&partial, handle.render()).with_context(|| format!("cannot write {}", partial.display()))?;
        std::fs::rename(&partial, &path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

async fn catalogue(database: &str, path: &Path) -> anyhow::Result<()> {
    let source = Source::open(path)?;
    let columns = source.columns(CATALOGUE_REQUIRED, CATALOGUE_OPTIONAL)?;
    let store = open(database).await?;
    let sites: HashSet<String> =
        if columns.has("site") { store.books().await?.site_codes().into_iter().collect() } else { HashSet::new() };
    let progress = progress(source.size);
    let (tx, mut rx) = mpsc::channel::<Batch<CatalogueRow>>(2);
    let parser = tokio::task::spawn_blocking(move || source.parse(BATCH, tx, |r| catalogue_row(r, &columns, &sites)));
    let mut import = store.catalogue_import();
    let mut loaded = 0;
    while let Some(batch) = rx.recv().await {
        import.load(&batch.rows).await?;
        loaded += batch.rows.len() as u64;
        progress.set_position(batch.read);
        progress.set_message(format!("{loaded} rows"));
    }
    let outcome = parser.await??;
    progress.finish_and_clear();
    outcome.print("catalogue", loaded);
    if !import.created_warehouses().is_empty() {
        println!("new warehouses: {}", import.created_warehouses().join(", "));
    }
    store.refresh_catalogue_statistics().await?;
    store.close().await;
    Ok(())
}

async fn crosses(database: &str, path: &Path) -> anyhow::Result<()> {
    let source = Source::open(path)?;
    let columns = source.columns(CROSSES_REQUIRED, &[])?;
    let store = open(database).await?;
    let progress = progress(source.size);
    let (tx, mut rx) = mpsc::channel::<Batch<Cross>>(2);
    let parser = tokio::task::spawn_blocking(move || source.parse(CROSS_BATCH, tx, |r| cross_row(r, &columns)));
    let (mut loaded, mut added) = (0, 0);
    while let Some(batch) = rx.recv().await {
        added += store.import_crosses(&batch.rows).await?;
        loaded += batch.rows.len() as u64;
        progress.set_position(batch.read);
        progress.set_message(format!("{loaded} rows"));
    }
    let outcome = parser.await??;
    progress.finish_and_clear();
    outcome.print("crosses", loaded);
    println!("new cross-reference entries: {added} (a pair is stored both ways)");
    store.refresh_catalogue_statistics().await?;
    store.close().await;
    Ok(())
}

async fn brands(database: &str, path: &Path) -> anyhow::Result<()> {
    let source = Source::open(path)?;
    let columns = source.columns(BRANDS_REQUIRED, &[])?;
    let store = open(database).await?;
    // An alias list is small: it is collected whole and stored in one transaction.
    let (tx, mut rx) = mpsc::channel::<Batch<(String, String)>>(2);
    let parser = tokio::task::spawn_blocking(move || source.parse(BATCH, tx, |r| alias_row(r, &columns)));
    let mut pairs = Vec::new();
    while let Some(batch) = rx.recv().await {
        pairs.extend(batch.rows);
    }
    let outcome = parser.await??;
    let report = store.set_brand_aliases(&pairs).await?;
    outcome.print("brands", pairs.len() as u64);
    println!(
        "aliases stored: {}; parts moved to their brand: {}; cross-reference entries re-keyed: {}",
        report.stored, report.products_moved, report.crosses_moved
    );
    for (alias, article) in &report.conflicts {
        println!("kept under alias {alias}: {article} (the brand already has a part with this number)");
    }
    store.close().await;
    Ok(())
}

/// Reads one alias row: (alias, brand).
fn alias_row(record: &StringRecord, columns: &Columns) -> Result<(String, String), String> {
    let (alias, brand) = (columns.get(record, "alias"), columns.get(record, "brand"));
    let mut errors = Vec::new();
    for (field, value) in [("alias", alias), ("brand", brand)] {
        if normalize_brand(value).is_empty() {
            errors.push(format!("{field} is empty"));
        }
    }
    if errors.is_empty() && normalize_brand(alias) == normalize_brand(brand) {
        errors.push("the alias is the brand itself".to_string());
    }
    if errors.is_empty() { Ok((alias.to_string(), brand.to_string())) } else { Err(errors.join("; ")) }
}

async fn open(url: &str) -> anyhow::Result<Store> {
    Store::open(url).await.with_context(|| format!("cannot open database {}", torg_store::redact(url)))
}

/// A bar on stderr, by bytes of the file read; hidden when stderr is not a terminal.
fn progress(size: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} eta {eta} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Rows parsed, with how far into the file they reach.
struct Batch<T> {
    rows: Vec<T>,
    /// Bytes of the file read so far.
    read: u64,
}

/// What parsing found besides the good rows.
#[derive(Debug, Default)]
struct Outcome {
    rejected: u64,
    /// The first [`LISTED_REJECTIONS`] rejections: line number and reason.
    listed: Vec<(u64, String)>,
}

impl Outcome {
    fn reject(&mut self, line: u64, reason: String) {
        self.rejected += 1;
        if self.listed.len() < LISTED_REJECTIONS {
            self.listed.push((line, reason));
        }
    }

    fn print(&self, kind: &'static str, loaded: u64) {
        metrics::counter!("torg_import_rows_total", "kind" => kind, "outcome" => "loaded").increment(loaded);
        metrics::counter!("torg_import_rows_total", "kind" => kind, "outcome" => "rejected").increment(self.rejected);
        println!("loaded {loaded} rows, rejected {} rows", self.rejected);
        for (line, reason) in &self.listed {
            println!("line {line}: {reason}");
        }
        let more = self.rejected - self.listed.len() as u64;
        if more > 0 {
            println!("… and {more} more rejected rows");
        }
    }
}

/// An open CSV file: decoded to UTF-8, separator known, header read.
struct Source {
    reader: csv::Reader<Box<dyn Read + Send>>,
    header: StringRecord,
    read: Arc<AtomicU64>,
    size: u64,
}

impl Source {
    fn open(path: &Path) -> anyhow::Result<Source> {
        let shown = path.display();
        let size = std::fs::metadata(path).with_context(|| format!("cannot read {shown}"))?.len();
        let utf8 = is_utf8(path).with_context(|| format!("cannot read {shown}"))?;
        let read = Arc::new(AtomicU64::new(0));
        let file =
            Counting { inner: File::open(path).with_context(|| format!("cannot read {shown}"))?, read: read.clone() };
        let decoded: Box<dyn Read + Send> = if utf8 { Box::new(file) } else { Box::new(Cp1251::new(file)) };
        let mut buffered = BufReader::with_capacity(1 << 16, decoded);
        let head = buffered.fill_buf().with_context(|| format!("cannot read {shown}"))?;
        let bom = head.starts_with(b"\xEF\xBB\xBF");
        let head = if bom { &head[3..] } else { head };
        let first_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
        let count = |c: u8| first_line.iter().filter(|b| **b == c).count();
        let delimiter = if count(b';') >= count(b',') { b';' } else { b',' };
        if bom {
            buffered.consume(3);
        }
        eprintln!("{shown}: {}, '{}'-separated", if utf8 { "UTF-8" } else { "Windows-1251" }, delimiter as char);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(Box::new(buffered) as Box<dyn Read + Send>);
        let header = reader.headers().with_context(|| format!("cannot read the header of {shown}"))?.clone();
        Ok(Source { reader, header, read, size })
    }

    /// Where each wanted column is; a missing required column is an error naming it.
    fn columns(&self, required: &[&'static str], optional: &[&'static str]) -> anyhow::Result<Columns> {
        let names: Vec<String> =
            self.header.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_lowercase()).collect();
        let mut at = Vec::new();
        for &want in required.iter().chain(optional) {
            let found: Vec<usize> = names.iter().enumerate().filter(|(_, n)| *n == want).map(|(i, _)| i).collect();
            if found.len() > 1 {
                anyhow::bail!("column '{want}' appears more than once in the header");
            }
            at.push((want, found.first().copied()));
        }
        let missing: Vec<&str> =
            required.iter().copied().filter(|r| at.iter().any(|(w, i)| w == r && i.is_none())).collect();
        if !missing.is_empty() {
            anyhow::bail!(
                "missing required column{} {} in the header (found: {}); needed: {}",
                if missing.len() > 1 { "s" } else { "" },
                missing.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", "),
                names.join(", "),
                required.join(", ")
            );
        }
        let unknown: Vec<&str> = names.iter().map(String::as_str).filter(|n| !at.iter().any(|(w, _)| w == n)).collect();
        if !unknown.is_empty() {
            eprintln!("ignoring columns: {}", unknown.join(", "));
        }
        Ok(Columns(at))
    }

    /// Reads every record, sending good rows in batches and collecting rejections.
    fn parse<T>(
        mut self,
        size: usize,
        tx: mpsc::Sender<Batch<T>>,
        row: impl Fn(&StringRecord) -> Result<T, String>,
    ) -> anyhow::Result<Outcome> {
        let mut outcome = Outcome::default();
        let mut record = StringRecord::new();
        let mut rows = Vec::with_capacity(size);
        loop {
            match self.reader.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => match e.position() {
                    Some(p) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                        outcome.reject(p.line(), "not valid text".into());
                        continue;
                    }
                    _ => return Err(anyhow::Error::new(e).context("cannot read the file")),
                },
            }
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(str::is_empty) {
                continue;
            }
            match row(&record) {
                Ok(r) => rows.push(r),
                Err(reason) => outcome.reject(line, reason),
            }
            if rows.len() == size {
                let batch = Batch { rows: std::mem::replace(&mut rows, Vec::with_capacity(size)), read: self.read() };
                if tx.blocking_send(batch).is_err() {
                    anyhow::bail!("loading stopped");
                }
            }
        }
        if !rows.is_empty() && tx.blocking_send(Batch { rows, read: self.size }).is_err() {
            anyhow::bail!("loading stopped");
        }
        Ok(outcome)
    }

    fn read(&self) -> u64 {
        self.read.load(Ordering::Relaxed).min(self.size)
    }
}

/// Positions of the wanted columns in the header (required ones first, in the order asked).
struct Columns(Vec<(&'static str, Option<usize>)>);

impl Columns {
    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, i)| *n == name && i.is_some())
    }

    /// The trimmed value of column `name` in `record`; empty when the column or the field is absent.
    fn get<'r>(&self, record: &'r StringRecord, name: &str) -> &'r str {
        self.0.iter().find(|(n, _)| *n == name).and_then(|(_, i)| i.and_then(|i| record.get(i))).map_or("", str::trim)
    }
}

/// Reads one catalogue row; the reasons for rejecting it otherwise, joined by `; `.
fn catalogue_row(record: &StringRecord, columns: &Columns, sites: &HashSet<String>) -> Result<CatalogueRow, String> {
    let get = |name: &str| columns.get(record, name);
    let mut errors = Vec::new();
    let article = get("article");
    check_number("article", article, &mut errors);
    let brand = get("brand");
    if normalize_brand(brand).is_empty() {
        errors.push("brand is empty".to_string());
    }
    let name = get("name");
    if name.is_empty() {
        errors.push("name is empty".to_string());
    }
    let warehouse = get("warehouse");
    if warehouse.is_empty() {
        errors.push("warehouse is empty".to_string());
    }
    let quantity = match get("quantity") {
        "" => {
            errors.push("quantity is empty".to_string());
            None
        }
        q => Availability::parse(q).or_else(|| {
            errors.push(format!("quantity '{q}' is not a number, <N, >N or Есть"));
            None
        }),
    };
    let price = match parse_price(get("price")) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let min_qty = match get("min_qty") {
        "" => Some(1),
        m => m.parse::<i64>().ok().filter(|n| *n > 0).or_else(|| {
            errors.push(format!("min_qty '{m}' is not a positive whole number"));
            None
        }),
    };
    let mut days = |field: &str| match get(field) {
        "" => None,
        d => d.parse::<i64>().ok().filter(|n| *n >= 0).or_else(|| {
            errors.push(format!("{field} '{d}' is not a whole number of days"));
            None
        }),
    };
    let (period_min, period_max) = (days("period_min"), days("period_max"));
    if let (Some(lo), Some(hi)) = (period_min, period_max)
        && lo > hi
    {
        errors.push(format!("period_min {lo} is greater than period_max {hi}"));
    }
    let site = get("site");
    if !site.is_empty() && !sites.contains(site) {
        errors.push(format!("site '{site}' does not exist"));
    }
    let description = get("description");
    match (quantity, price, min_qty) {
        (Some(quantity), Some(price), Some(min_qty)) if errors.is_empty() => Ok(CatalogueRow {
            article: article.to_string(),
            brand: brand.to_string(),
            name: name.to_string(),
            description: (!description.is_empty()).then(|| description.to_string()),
            warehouse: warehouse.to_string(),
            quantity,
            price,
            min_qty,
            period_min,
            period_max,
        }),
        _ => Err(errors.join("; ")),
    }
}

/// Reads one cross-reference row.
fn cross_row(record: &StringRecord, columns: &Columns) -> Result<Cross, String> {
    let get = |name: &str| columns.get(record, name);
    let mut errors = Vec::new();
    check_number("article", get("article"), &mut errors);
    check_number("cross_article", get("cross_article"), &mut errors);
    for field in ["brand", "cross_brand"] {
        if normalize_brand(get(field)).is_empty() {
            errors.push(format!("{field} is empty"));
        }
    }
    if errors.is_empty()
        && normalize_number(get("article")) == normalize_number(get("cross_article"))
        && normalize_brand(get("brand")) == normalize_brand(get("cross_brand"))
    {
        errors.push("the part is crossed with itself".to_string());
    }
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    Ok(Cross {
        article: get("article").to_string(),
        brand: get("brand").to_string(),
        cross_article: get("cross_article").to_string(),
        cross_brand: get("cross_brand").to_string(),
    })
}

/// A part number must be there and have a letter or digit (what search compares).
fn check_number(field: &str, value: &str, errors: &mut Vec<String>) {
    if value.is_empty() {
        errors.push(format!("{field} is empty"));
    } else if normalize_number(value).is_empty() {
        errors.push(format!("{field} '{value}' has no letters or digits"));
    }
}

/// A price: a non-negative decimal, `.` or `,` before the fraction, spaces between thousands allowed.
fn parse_price(text: &str) -> Result<Decimal, String> {
    if text.is_empty() {
        return Err("price is empty".into());
    }
    let plain: String = text.chars().filter(|c| !c.is_whitespace()).map(|c| if c == ',' { '.' } else { c }).collect();
    let price = Decimal::from_str(&plain).map_err(|_| format!("price '{text}' is not a decimal number"))?;
    if price.is_sign_negative() && !price.is_zero() {
        return Err(format!("price '{text}' is negative"));
    }
    if price > torg_domain::money::max_amount() {
        return Err(format!("price '{text}' is too large"));
    }
    Ok(price)
}

/// Whether the whole file is valid UTF-8, read in chunks.
fn is_utf8(path: &Path) -> io::Result<bool> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut carry = 0;
    loop {
        let n = file.read(&mut buf[carry..])?;
        if n == 0 {
            return Ok(carry == 0);
        }
        let len = carry + n;
        carry = match std::str::from_utf8(&buf[..len]) {
            Ok(_) => 0,
            Err(e) if e.error_len().is_some() => return Ok(false),
            Err(e) => {
                // A character cut at the chunk's end: keep its first bytes for the next read.
                let valid = e.valid_up_to();
                buf.copy_within(valid..len, 0);
                len - valid
            }
        };
    }
}

/// Counts the bytes read from the file, for the progress bar.
struct Counting {
    inner: File,
    read: Arc<AtomicU64>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Decodes Windows-1251 to UTF-8 as it reads.
struct Cp1251<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    decoded: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> Cp1251<R> {
    fn new(inner: R) -> Self {
        Cp1251 {
            inner,
            decoder: encoding_rs::WINDOWS_1251.new_decoder_without_bom_handling(),
            raw: vec![0; 1 << 16],
            decoded: Vec::new(),
            at: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for Cp1251<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.decoded.len() {
            if self.done {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.raw)?;
            let last = n == 0;
            let room = self.decoder.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16);
            self.decoded.clear();
            self.decoded.resize(room, 0);
            let (_, _, written, _) = self.decoder.decode_to_utf8(&self.raw[..n], &mut self.decoded, last);
            self.decoded.truncate(written);
            self.at = 0;
            self.done = last;
        }
        let k = out.len().min(self.decoded.len() - self.at);
        out[..k].copy_from_slice(&self.decoded[self.at..self.at + k]);
        self.at += k;
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_take_either_decimal_mark() {
        assert_eq!(parse_price("152,02"), Ok(Decimal::new(15202, 2)));
        assert_eq!(parse_price("1 234.5"), Ok(Decimal::new(12345, 1)));
        assert!(parse_price("abc").unwrap_err().contains("'abc'"));
        assert!(parse_price("-1").unwrap_err().contains("negative"));
        assert_eq!(parse_price(""), Err("price is empty".into()));
    }

    #[test]
    fn cp1251_decodes_across_reads() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Фильтр масляный;Есть");
        let mut out = String::new();
        Cp1251::new(&bytes[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, "Фильтр масляный;Есть");
    }
}

/// Property-based fuzzing of the CSV reader (UTF-8 and Windows-1251, either separator, any bytes):
/// every file is read or refused, never a panic. `TORG_FUZZ_CASES` raises the case count for a long
/// local run (CI runs the default).
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn cases() -> u32 {
        std::env::var("TORG_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48)
    }

    fn headers() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "article;brand;name;warehouse;quantity;price\n",
            "\u{feff}article,brand,name,warehouse,quantity,price,min_qty,site\n",
            "article;brand;cross_article;cross_brand\n",
            "alias;brand\n",
            "",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]
        #[test]
        fn any_file_is_read_or_refused(header in headers(), bytes in prop::collection::vec(any::<u8>(), 0..1500),
                                       text in "[a-zA-Zа-яА-Я0-9;,.\" \n-]{0,400}") {
            let dir = tempfile::tempdir().expect("temp dir");
            for body in [bytes.clone(), text.as_bytes().to_vec()] {
                let path = dir.path().join("fuzz.csv");
                let mut content = header.as_bytes().to_vec();
                content.extend(body);
                std::fs::write(&path, &content).expect("write");
                let Ok(mut source) = Source::open(&path) else { continue };
                let sites = HashSet::from(["default".to_string()]);
                if let Ok(columns) = source.columns(CATALOGUE_REQUIRED, CATALOGUE_OPTIONAL) {
                    for record in source.reader.records().take(300).flatten() {
                        let _ = catalogue_row(&record, &columns, &sites);
                    }
                } else if let Ok(columns) = source.columns(CROSSES_REQUIRED, &[]) {
                    for record in source.reader.records().take(300).flatten() {
                        let _ = cross_row(&record, &columns);
                    }
                } else if let Ok(columns) = source.columns(BRANDS_REQUIRED, &[]) {
                    for record in source.reader.records().take(300).flatten() {
                        let _ = alias_row(&record, &columns);
                    }
                }
            }
        }
    }
}
