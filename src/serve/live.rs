//! The live lab: `sim serve FILE` runs a scenario paced against the wall
//! clock and lets a class talk to its nodes while it runs.
//!
//! - [`session`]: the thread that owns the world, paces it, and runs the
//!   handlers' requests between slices of events;
//! - [`node_api`]: the ancestors' node API (`/chain`, `/height`, `/mine`,
//!   `/transactions/new`, `/nodes/resolve`, …) on every full node's own port
//!   and under `/node/<i>/`;
//! - [`lab`]: lab control (`/lab/pause`, `/lab/partition`, …), status and
//!   the Server-Sent Events stream;
//! - [`inputs`]: `inputs.jsonl`, every input with the simulated time it was
//!   applied at, which `sim replay` re-applies.
//!
//! The main server also serves the live page at `/` (the network coloured
//! by the tip each node follows, the fork tree, the buttons). Request
//! bodies are capped at [`MAX_BODY_BYTES`]; every error is `{"error": …}`.
//! No route serves a private key: the lab holds the scenario wallets' keys
//! to sign `{"sender", "recipient", "amount"}` payments, and the students'
//! keys are never held at all.

pub mod inputs;
pub mod lab;
pub mod node_api;
pub mod session;

use std::future::Future;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use session::{Ended, Lab, LabInfo, Session};

use crate::serve::api::ApiError;

/// Largest request body accepted (1 MiB); larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route {}: see / for the lab, /lab/status, and /node/<i>/openapi.json for a node's API",
        uri.path().chars().take(200).collect::<String>()
    ))
}

/// The main server's routes: the live page, `/lab/…`, and every full
/// node's API under `/node/<i>/`.
pub fn main_router(lab: Lab, full_nodes: &[u32]) -> Router {
    let mut r = Router::new()
        .route("/", get(page))
        .route("/lab/live.js", get(script))
        .route("/lab/openapi-node.json", get(node_api::openapi))
        .nest("/lab", lab::router(lab.clone()));
    for &i in full_nodes {
        r = r.nest(&format!("/node/{i}"), node_api::router(lab.clone(), i));
    }
    harden(r)
}

/// A full node's own server: its API at `/`.
pub fn node_router(lab: Lab, node: u32) -> Router {
    harden(node_api::router(lab, node))
}

/// Body cap, JSON 404 and 405 for every router.
fn harden(r: Router) -> Router {
    r.fallback(not_found)
        .method_not_allowed_fallback(|| async {
            ApiError {
                status: StatusCode::METHOD_NOT_ALLOWED,
                message: "method not allowed on this route".into(),
            }
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>forklab live lab</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:1rem;color:#222}
h1{font-size:1.3rem;margin:.2rem 0}
#bar button{margin:.1rem}
.cols{display:flex;flex-wrap:wrap;gap:1rem}
.panel{border:1px solid #ccc;border-radius:6px;padding:.5rem}
table{border-collapse:collapse;font-size:.85rem}
td,th{padding:.1rem .4rem;border-bottom:1px solid #eee;text-align:left}
code{font-size:.8rem}
#log{height:12rem;overflow:auto;font-size:.8rem;font-family:monospace;white-space:pre}
</style></head>
<body>
<h1>forklab live lab: <span id="name"></span></h1>
<div id="clock">connecting…</div>
<div id="bar" class="panel">
<button id="pause">Pause</button><button id="resume">Resume</button>
<button id="step">Step 1 event</button><button id="stepblock">Step to next block</button>
speed <input id="speed" size="5" value="1"><button id="setspeed">Set</button>
| partition <input id="groups" size="14" value="[[0],[1,2]]"><button id="partition">Partition</button>
<button id="heal">Heal</button>
<span id="minebuttons"></span>
</div>
<div class="cols">
<div class="panel"><h2>Network</h2><svg id="net" width="360" height="300" role="img" aria-label="network"></svg></div>
<div class="panel"><h2>Nodes</h2><table id="nodes"></table></div>
<div class="panel"><h2>Fork tree</h2><svg id="tree" width="420" height="300" role="img" aria-label="fork tree"></svg></div>
</div>
<div class="panel"><h2>Events</h2><div id="log"></div></div>
<script src="/lab/live.js"></script>
</body></html>
"#;

const SCRIPT: &str = r#"'use strict';
const palette=['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
let state=null, pending=false;
const $=id=>document.getElementById(id);
async function post(path, body){
  const r=await fetch(path,{method:'POST',headers:{'content-type':'application/json'},body:body===undefined?undefined:JSON.stringify(body)});
  const j=await r.json().catch(()=>({}));
  log(r.ok?(j.message||'ok'):('error: '+(j.error||r.status)));
  refresh();
}
function log(line){const l=$('log');l.textContent+=line+'\n';l.scrollTop=l.scrollHeight;}
function colourOf(tip, tips){const i=tips.indexOf(tip);return palette[i%palette.length];}
function svg(tag, attrs, text){const e=document.createElementNS('http://www.w3.org/2000/svg',tag);for(const k in attrs)e.setAttribute(k,attrs[k]);if(text!==undefined)e.textContent=text;return e;}
function draw(){
  const s=state; if(!s) return;
  $('name').textContent=s.name;
  $('clock').textContent=`simulated ${s.clock_s.toFixed(1)} s · speed ${s.speed}x · ${s.paused?'paused':'running'}${s.ended?' · ended':''} · ${s.events} events · best height ${s.best_height} · ${s.inputs} inputs recorded`;
  $('clock').dataset.paused=String(s.paused);
  const tips=[...new Set(s.nodes.filter(n=>n.tip).map(n=>n.tip))];
  const net=$('net'); net.replaceChildren();
  const n=s.nodes.length, cx=180, cy=150, r=110;
  const pos=s.nodes.map((_,i)=>[cx+r*Math.cos(2*Math.PI*i/n-Math.PI/2), cy+r*Math.sin(2*Math.PI*i/n-Math.PI/2)]);
  for(const a of s.nodes) for(const b of a.peers) if(a.id<b){
    const cut=!a.online||!s.nodes[b].online||a.group!==s.nodes[b].group;
    net.append(svg('line',{x1:pos[a.id][0],y1:pos[a.id][1],x2:pos[b][0],y2:pos[b][1],stroke:cut?'#ddd':'#888','stroke-dasharray':cut?'4 4':'', 'data-link':`${a.id}-${b}`}));
  }
  for(const a of s.nodes){
    const g=svg('g',{'data-node':a.id,'data-tip':a.tip||''});
    g.append(svg('circle',{cx:pos[a.id][0],cy:pos[a.id][1],r:22,fill:a.online?(a.tip?colourOf(a.tip,tips):'#ccc'):'#eee',stroke:'#333'}));
    g.append(svg('text',{x:pos[a.id][0],y:pos[a.id][1]+5,'text-anchor':'middle','font-size':14,fill:'#fff'},String(a.id)));
    g.append(svg('text',{x:pos[a.id][0],y:pos[a.id][1]+38,'text-anchor':'middle','font-size':11},a.height===null?'light':`h ${a.height}`));
    net.append(g);
  }
  const t=$('nodes'); t.replaceChildren();
  const head=document.createElement('tr'); head.innerHTML='<th>node</th><th>height</th><th>tip</th><th>mempool</th><th>online</th><th>group</th><th>H/s</th><th>API</th>'; t.append(head);
  for(const a of s.nodes){const tr=document.createElement('tr');tr.dataset.node=a.id;
    for(const v of [a.id,a.height??'',a.tip?a.tip.slice(0,12)+'…':'',a.mempool??'',a.online?'yes':'no',a.group,a.hashrate_hps.toFixed(1)]){const td=document.createElement('td');td.textContent=v;tr.append(td);}
    const td=document.createElement('td'); if(a.url){const c=document.createElement('code');c.textContent=a.url;td.append(c);} tr.append(td); t.append(tr);}
  const mb=$('minebuttons'); if(!mb.childElementCount){for(const a of s.nodes) if(a.height!==null){const b=document.createElement('button');b.textContent='Mine on '+a.id;b.id='mine'+a.id;b.onclick=async()=>{const r=await fetch(`/node/${a.id}/mine`,{method:'POST'});const j=await r.json();log(r.ok?`node ${a.id} mined ${j.block.hash.slice(0,12)}… at height ${j.block.height}`:'error: '+j.error);refresh();};mb.append(b);}}
  const tree=$('tree'); tree.replaceChildren();
  const blocks=s.blocks, maxH=Math.max(1,...blocks.map(b=>b.height));
  const shown=blocks.filter(b=>b.height>maxH-14);
  const lanes={}, place={};
  for(const b of shown){const l=lanes[b.height]=(lanes[b.height]||0)+1; place[b.hash]=[20+(l-1)*70, 285-(b.height-Math.max(0,maxH-13))*20];}
  const onTip=new Set(); for(const a of s.nodes) if(a.tip) onTip.add(a.tip);
  for(const b of shown){const p=place[b.parent]; if(p) tree.append(svg('line',{x1:p[0]+25,y1:p[1],x2:place[b.hash][0]+25,y2:place[b.hash][1]+12,stroke:'#999'}));}
  for(const b of shown){const [x,y]=place[b.hash];const g=svg('g',{'data-block':b.hash,'data-height':b.height});
    g.append(svg('rect',{x,y:y-0,width:50,height:12,fill:onTip.has(b.hash)?colourOf(b.hash,tips):'#f4f4f4',stroke:'#555'}));
    g.append(svg('text',{x:x+25,y:y+10,'text-anchor':'middle','font-size':9},`${b.height}:${b.hash.slice(0,5)}`)); tree.append(g);}
}
async function refresh(){
  if(pending) return; pending=true;
  try{const r=await fetch('/lab/status'); if(r.ok){state=await r.json(); draw();}}
  finally{pending=false;}
}
$('pause').onclick=()=>post('/lab/pause');
$('resume').onclick=()=>post('/lab/resume');
$('step').onclick=()=>post('/lab/step',{until:'event'});
$('stepblock').onclick=()=>post('/lab/step',{until:'block'});
$('setspeed').onclick=()=>post('/lab/speed',{speed:Number($('speed').value)});
$('partition').onclick=()=>{let g;try{g=JSON.parse($('groups').value);}catch(e){log('groups: '+e);return;}post('/lab/partition',{groups:g});};
$('heal').onclick=()=>post('/lab/heal');
const es=new EventSource('/lab/events');
es.onmessage=e=>{const h=JSON.parse(e.data); if(h.kind==='mined')log(`${h.t.toFixed(1)} s node ${h.node} mined ${h.hash.slice(0,12)}… height ${h.height}`); else if(h.kind==='reorg')log(`${h.t.toFixed(1)} s node ${h.node} reorg depth ${h.depth}`); else if(h.kind==='input'||h.kind==='lab')log(`${h.t.toFixed(1)} s ${h.what}`); refresh();};
refresh(); setInterval(refresh,1000);
"#;
