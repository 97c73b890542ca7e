import { hasPrepared, loadPrepared } from '../../calibration/prepare.js';
import { loadServingModel, SELECTION_MODES } from '../../serve/serving-model.js';
import { RecommendationService } from '../../serve/service.js';
import { createRecommendationServer } from '../../serve/server.js';
import { choice, int, requireStr, str } from '../args.js';
import type { Command } from '../command.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'HTTP inference API for the backbone or a CaliTune checkpoint (with on-the-fly CP for comparison)',
  usage: 'serve --run RUN [--experiment NAME [--epoch N | --mode any|ndcg|pop_jsd|tradeoff]] [--port 8080] [--host 127.0.0.1]',
  options: {
    run: { type: 'string' }, experiment: { type: 'string' }, epoch: { type: 'string' }, mode: { type: 'string' },
    port: { type: 'string' }, host: { type: 'string' },
  },
  help: `Options:
  --run DIR           run directory
  --experiment NAME   serve a CaliTune checkpoint of this experiment (default: the backbone)
  --epoch N           that epoch's checkpoint (its weights must have been kept)
  --mode M            or the validation-selected epoch for mode M (default any)
  --port N            TCP port (default 8080; 0 picks a free one)
  --host H            address to listen on (default 127.0.0.1)

Endpoints (JSON):
  GET  /health
  GET  /info
  GET  /recommend?user=U&k=10[&method=model|cp][&lambda=0.5][&m=100][&exclude=train,valid,test|none]
  POST /recommend   {"users": ["U1", "U2"], "k": 10}
User and item ids are the dataset's own tokens. method=cp re-ranks the model's top-m with
calibrated popularity (needs 'calitune prepare'); a CaliTune model needs no re-ranking.
Stops on Ctrl-C (SIGINT) or SIGTERM.

Example:
  calitune serve --run runs/demo --experiment c0.5 --mode any --port 8080
  curl 'http://127.0.0.1:8080/recommend?user=196&k=10'`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const experiment = str(v, 'experiment');
    const epoch = int(v, 'epoch', { min: 0 });
    const mode = choice(v, 'mode', SELECTION_MODES);
    const port = int(v, 'port', { min: 0, max: 65535 }) ?? 8080;
    const host = str(v, 'host') ?? '127.0.0.1';
    const sm = loadServingModel(run, {
      ...(experiment !== undefined ? { experiment } : {}),
      ...(epoch !== undefined ? { epoch } : {}),
      ...(mode !== undefined ? { mode } : {}),
    });
    const prepared = hasPrepared(run) ? loadPrepared(run, { nUsers: sm.ds.nUsers, nItems: sm.ds.nItems }) : undefined;
    const service = new RecommendationService(sm, prepared);
    const server = createRecommendationServer(service);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    const actualPort = typeof addr === 'object' && addr ? addr.port : port;
    ctx.warn(`serving ${sm.label} on http://${host}:${actualPort} (${sm.ds.nUsers - 1} users, ${sm.ds.nItems - 1} items${prepared ? ', CP available' : ''})`);
    await new Promise<void>((resolve) => {
      const stop = () => { server.close(() => resolve()); server.closeAllConnections(); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    ctx.info('server stopped');
    return { run, model: sm.label, host, port: actualPort };
  },
};
