// Parquet writer candidates on the same rows (issue 14, item 1): write speed, peak RSS and file size.
// Not part of the build: run it in a scratch directory with the candidates installed —
//   npm install hyparquet-writer@0.17.0 @dsnp/parquetjs@1.8.8 parquet-wasm@0.8.0 apache-arrow @duckdb/node-api@1.5.6-r.1
//   patchscan scan -c catalog.pscat -i first-300.jsonl -o rows.jsonl -f rows        # the rows: Required, Unknown
//   DICT=1 node parquet-candidates.mjs <hyparquet-writer|parquetjs|parquet-wasm|duckdb> rows.jsonl out.parquet 5
// (5 = the rows five times over, other computer names). DICT=1: hyparquet-writer dictionary-encodes every string column
// (its default keeps a dictionary only when the first page halves; updateId and title then go PLAIN, 3.5× larger).
import { readFileSync, createWriteStream, statSync, openSync, writeSync, closeSync } from 'node:fs';
const [lib, input, out, copiesArg] = process.argv.slice(2);
const copies = Number(copiesArg ?? 1);
const base = readFileSync(input, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => !r.error);
const rows = [];
for (let c = 0; c < copies; c++) for (const r of base) rows.push(c === 0 ? r : { ...r, computer: `${r.computer}-${c}` });
const rss = () => process.resourceUsage().maxRSS / 1024;
const rssLoaded = rss();
const COLS = ['computer', 'updateId', 'revisionNumber', 'kb', 'title', 'classification', 'severity', 'type', 'isBundle', 'state', 'superseded', 'reason'];
const TYPES = { revisionNumber: 'INT32', isBundle: 'BOOLEAN', superseded: 'BOOLEAN' };
const GROUP = 100_000;
const t0 = performance.now();
if (lib === 'hyparquet-writer') {
  const { ParquetWriter, ByteWriter, schemaFromColumnData } = await import('hyparquet-writer');
  const fd = openSync(out, 'w');
  const bw = new ByteWriter();
  bw.flush = () => { writeSync(fd, new Uint8Array(bw.buffer, 0, bw.index)); bw.index = 0; };
  bw.finish = bw.flush;
  let pw;
  for (let g = 0; g < rows.length; g += GROUP) {
    const part = rows.slice(g, g + GROUP);
    const columnData = COLS.map((name) => ({ name, data: part.map((r) => r[name]), type: TYPES[name] ?? 'STRING', nullable: false, ...(TYPES[name] ? {} : process.env.DICT ? { encoding: 'RLE_DICTIONARY' } : {}) }));
    pw ??= new ParquetWriter({ writer: bw, schema: schemaFromColumnData({ columnData }) });
    pw.write({ columnData, rowGroupSize: GROUP });
  }
  pw.finish();
  closeSync(fd);
} else if (lib === 'parquetjs') {
  const { ParquetSchema, ParquetWriter } = await import('@dsnp/parquetjs');
  const schema = new ParquetSchema(Object.fromEntries(COLS.map((c) => [c, { type: TYPES[c] ?? 'UTF8', compression: 'SNAPPY' }])));
  const w = await ParquetWriter.openFile(schema, out, { rowGroupSize: GROUP });
  for (const r of rows) await w.appendRow(r);
  await w.close();
} else if (lib === 'parquet-wasm') {
  const arrow = await import('apache-arrow');
  const pq = await import('parquet-wasm');
  const batches = [];
  const stream = new ReadableStream({
    start(ctrl) {
      for (let g = 0; g < rows.length; g += GROUP) {
        const part = rows.slice(g, g + GROUP);
        const t = arrow.tableFromArrays(Object.fromEntries(COLS.map((c) => [c, c === 'revisionNumber' ? Int32Array.from(part, (r) => r[c]) : part.map((r) => r[c])])));
        for (const b of pq.Table.fromIPCStream(arrow.tableToIPC(t, 'stream')).recordBatches()) ctrl.enqueue(b);
      }
      ctrl.close();
    },
  });
  const props = new pq.WriterPropertiesBuilder().setCompression(pq.Compression.SNAPPY).build();
  const outStream = await pq.transformParquetStream(stream, props);
  const fd = openSync(out, 'w');
  for await (const chunk of outStream) writeSync(fd, chunk);
  closeSync(fd);
} else if (lib === 'duckdb') {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run(`CREATE TABLE r (computer VARCHAR, updateId VARCHAR, revisionNumber INTEGER, kb VARCHAR, title VARCHAR, classification VARCHAR, severity VARCHAR, type VARCHAR, isBundle BOOLEAN, state VARCHAR, superseded BOOLEAN, reason VARCHAR)`);
  const a = await con.createAppender('r');
  for (const r of rows) {
    a.appendVarchar(r.computer); a.appendVarchar(r.updateId); a.appendInteger(r.revisionNumber); a.appendVarchar(r.kb); a.appendVarchar(r.title);
    a.appendVarchar(r.classification); a.appendVarchar(r.severity); a.appendVarchar(r.type); a.appendBoolean(r.isBundle); a.appendVarchar(r.state);
    a.appendBoolean(r.superseded); a.appendVarchar(r.reason); a.endRow();
  }
  a.closeSync();
  await con.run(`COPY r TO '${out}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${GROUP})`);
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ lib, rows: rows.length, seconds: +seconds.toFixed(2), rowsPerSecond: Math.round(rows.length / seconds), bytes: statSync(out).size, rssLoadedMiB: Math.round(rssLoaded), peakRssMiB: Math.round(rss()) }));
