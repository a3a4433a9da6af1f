/**
 * Derivative-free minimiser shared by the BG/NBD and Gamma-Gamma fits.
 *
 * Why not `fmin`'s nelderMead: fmin@0.0.4 ships a UMD bundle under
 * "type":"module", so `import { nelderMead } from "fmin"` yields nothing in
 * Node ESM (it only writes `globalThis.fmin`), and its shrink step assigns an
 * undeclared `i`, which throws "i is not defined" in strict mode. It also
 * reports neither iterations nor convergence. This is the same downhill-simplex
 * method (Nelder & Mead 1965, standard coefficients) in ~100 lines, NaN-safe.
 */

export interface MinimizeOptions {
  /** Simplex iterations per run (default 2000). */
  maxIterations?: number;
  /** Edge length of the initial simplex along each axis (default 0.5; suits log-parameters). */
  initialStep?: number;
  /** Stop when every vertex is within this distance (max-norm) of the best one (default 1e-9). */
  xTolerance?: number;
  /** ...and every vertex value is within this of the best value (default 1e-12). */
  fTolerance?: number;
  /** Restart from the optimum until a run improves f by less than fTolerance (default 4 restarts). */
  maxRestarts?: number;
}

export interface MinimizeResult {
  x: number[];
  fx: number;
  /** Simplex iterations summed over all runs. */
  iterations: number;
  evaluations: number;
  /** The last run met the tolerances and the last restart found no material improvement. */
  converged: boolean;
}

interface Vertex {
  x: number[];
  fx: number;
}

/** Minimise f from x0 with Nelder–Mead, restarting from the optimum to escape a collapsed simplex. */
export function minimize(f: (x: number[]) => number, x0: number[], options: MinimizeOptions = {}): MinimizeResult {
  const maxRestarts = options.maxRestarts ?? 4;
  const fTolerance = options.fTolerance ?? 1e-12;
  let best = nelderMead(f, x0, options);
  let { iterations, evaluations } = best;
  let converged = best.converged;
  for (let restart = 0; restart < maxRestarts; restart++) {
    const next = nelderMead(f, best.x, options);
    iterations += next.iterations;
    evaluations += next.evaluations;
    const improvement = best.fx - next.fx;
    if (next.fx <= best.fx) best = next;
    converged = next.converged && !(improvement > fTolerance * Math.max(1, Math.abs(best.fx)));
    if (converged) break;
  }
  return { x: best.x, fx: best.fx, iterations, evaluations, converged };
}

/** One Nelder–Mead run. Non-finite objective values count as +Infinity, so NaN never wins. */
function nelderMead(f: (x: number[]) => number, x0: number[], options: MinimizeOptions = {}): MinimizeResult {
  const maxIterations = options.maxIterations ?? 2000;
  const step = options.initialStep ?? 0.5;
  const xTolerance = options.xTolerance ?? 1e-9;
  const fTolerance = options.fTolerance ?? 1e-12;
  const n = x0.length;
  let evaluations = 0;
  const evaluate = (x: number[]): Vertex => {
    evaluations++;
    const fx = f(x);
    return { x, fx: Number.isFinite(fx) ? fx : Number.POSITIVE_INFINITY };
  };
  // x_new = centroid + coefficient * (centroid - worst)
  const along = (centroid: number[], worst: number[], coefficient: number) => centroid.map((c, i) => c + coefficient * (c - worst[i]));

  const simplex: Vertex[] = [evaluate(x0.slice())];
  for (let i = 0; i < n; i++) {
    const x = x0.slice();
    x[i] += step;
    simplex.push(evaluate(x));
  }

  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((u, v) => u.fx - v.fx);
    const bestVertex = simplex[0];
    const worst = simplex[n];
    if (isConverged(simplex, xTolerance, fTolerance)) {
      converged = true;
      break;
    }
    const centroid = new Array<number>(n).fill(0);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) centroid[i] += simplex[j].x[i] / n;

    const reflected = evaluate(along(centroid, worst.x, 1));
    if (reflected.fx < bestVertex.fx) {
      const expanded = evaluate(along(centroid, worst.x, 2));
      simplex[n] = expanded.fx < reflected.fx ? expanded : reflected;
    } else if (reflected.fx < simplex[n - 1].fx) {
      simplex[n] = reflected;
    } else {
      // Contract towards the better of the worst vertex and its reflection.
      const outside = reflected.fx < worst.fx;
      const contracted = evaluate(along(centroid, worst.x, outside ? 0.5 : -0.5));
      if (contracted.fx < (outside ? reflected.fx : worst.fx)) {
        simplex[n] = contracted;
      } else {
        for (let j = 1; j <= n; j++) {
          simplex[j] = evaluate(simplex[j].x.map((v, i) => bestVertex.x[i] + 0.5 * (v - bestVertex.x[i])));
        }
      }
    }
  }
  simplex.sort((u, v) => u.fx - v.fx);
  return { x: simplex[0].x, fx: simplex[0].fx, iterations, evaluations, converged };
}

function isConverged(sortedSimplex: Vertex[], xTolerance: number, fTolerance: number): boolean {
  const best = sortedSimplex[0];
  const fScale = Math.max(1, Math.abs(best.fx));
  for (let j = 1; j < sortedSimplex.length; j++) {
    const vertex = sortedSimplex[j];
    if (!(vertex.fx - best.fx <= fTolerance * fScale)) return false;
    for (let i = 0; i < best.x.length; i++) {
      if (Math.abs(vertex.x[i] - best.x[i]) > xTolerance) return false;
    }
  }
  return true;
}
