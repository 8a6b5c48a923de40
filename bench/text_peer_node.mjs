// The Node.js peer for bench/text_peers.py: @gutenye/ocr-node (PP-OCRv4 under onnxruntime-node), installed outside
// the repository in $PEERS_DIR. Prints one JSON line per image: path, text (lines joined with newlines), ms.
import path from 'node:path'

const peers = process.env.PEERS_DIR || '/tmp/peers'
const { default: Ocr } = await import(path.join(peers, 'node_modules/@gutenye/ocr-node/build/index.js'))
const ocr = await Ocr.create()
for (const file of process.argv.slice(2)) {
  const t0 = performance.now()
  let text = ''
  try {
    const lines = await ocr.detect(file)
    text = lines.map((l) => l.text).join('\n')
  } catch (e) {
    text = ''
    console.error(`${file}: ${e.message}`)
  }
  console.log(JSON.stringify({ path: file, text, ms: performance.now() - t0 }))
}
