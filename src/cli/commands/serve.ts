import { SELECTION_MODES } from '../../serve/serving-model.js';
import { LOG_LEVELS } from '../../serve/server.js';
import { serve } from '../../pipeline/serve.js';
import { choice, int, requireStr, str } from '../args.js';
import type { Command } from '../command.js';

/** `calitune serve`: the HTTP recommendation API. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'HTTP inference API for the backbone or a CaliTune checkpoint (with on-the-fly CP for comparison)',
  usage:
    'serve --run RUN [--experiment NAME [--epoch N | --mode any|ndcg|pop_jsd|tradeoff]] ' +
    '[--port 8080] [--host 127.0.0.1] [--titles FILE] [--log-level info]',
  options: {
    run: { type: 'string' },
    experiment: { type: 'string' },
    epoch: { type: 'string' },
    mode: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    titles: { type: 'string' },
    'log-level': { type: 'string' },
  },
  help: `Options:
  --run DIR           run directory
  --experiment NAME   serve a CaliTune checkpoint of this experiment (default: the backbone)
  --epoch N           that epoch's checkpoint (its weights must have been kept)
  --mode M            or the validation-selected epoch for mode M (default any)
  --port N            TCP port (default 8080; 0 picks a free one)
  --host H            address to listen on (default 127.0.0.1, loopback only; any other address
                      makes the API, which has no authentication, reachable from other machines)
  --titles FILE       item titles (*.item, u.item, movies.dat; default: the one beside the dataset)
  --log-level L       ${LOG_LEVELS.join('|')} (default info; pino JSON lines on stderr)

Endpoints (JSON; the OpenAPI document at /openapi.json):
  GET|HEAD /health, /ready
  GET  /info
  GET  /recommend?user=U&k=10[&method=model|cp][&lambda=0.5][&m=100][&exclude=train,valid,test|none]
  POST /recommend   {"users": ["U1", "U2"], "k": 10}   (users × k at most 200,000; body at most 1 MiB)
  POST /admin/reload {"backbone": true} | {"experiment": "E", "epoch": N | "mode": "any"}  (loopback only)
  GET  /metrics     Prometheus text
  GET  /            the explorer page (a prepared run; its chart needs 'calitune evaluate --experiment')
User and item ids are the dataset's own tokens. method=cp re-ranks the model's top-m with
calibrated popularity (needs 'calitune prepare'); a CaliTune model needs no re-ranking.
Stops on Ctrl-C (SIGINT) or SIGTERM, after the requests in flight.

Example:
  calitune serve --run runs/demo --experiment c0.5 --mode any --port 8080
  curl 'http://127.0.0.1:8080/recommend?user=196&k=10'`,
  async run(v, _pos, ctx) {
    const handle = await serve(
      {
        run: requireStr(v, 'run'),
        experiment: str(v, 'experiment'),
        epoch: int(v, 'epoch', { min: 0 }),
        mode: choice(v, 'mode', SELECTION_MODES),
        port: int(v, 'port', { min: 0, max: 65535 }),
        host: str(v, 'host'),
        titles: str(v, 'titles'),
        logLevel: choice(v, 'log-level', LOG_LEVELS) ?? 'info',
      },
      ctx,
    );
    await new Promise<void>((resolve) => {
      const stop = () => {
        void handle.close().then(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    ctx.info('server stopped');
    return { run: handle.run, model: handle.model, host: handle.host, port: handle.port };
  },
};
