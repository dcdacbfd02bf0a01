/**
 * One pre-norm transformer block, forward and hand-written backward, shared by the vision tower
 * and the language model. They differ only in biases (carried by the weights), in how attention
 * sees the rows (full image, windows, causal with padding or a KV cache) and in the rotary table —
 * both supplied by a `BlockAttention`:
 *
 *   h1 = rms(x)·w1;  q,k,v = h1·W{q,k,v}ᵀ (+b);  rotate q, k;  o = attention(q, k, v)
 *   x2 = x + o·Woᵀ (+b);  h2 = rms(x2)·w2;  y = x2 + (silu(h2·Wgᵀ) ⊙ h2·Wuᵀ)·Wdᵀ (+b)
 *
 * Rows R of every activation are the pass's token rows; activations come from the step's arena
 * and the backward accumulates into the parameter gradients.
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import { add, swigluBackward, swigluForward } from "../gpu/ops/elementwise.ts";
import { rmsNormBackward, rmsNormForward } from "../gpu/ops/rmsnorm.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { linearBackward, linearForward, type LinearWeights } from "./linear.ts";

/** A norm weight and its gradient. */
export interface NormWeight {
  readonly value: Tensor;
  readonly grad: Tensor;
}

/** Everything one block learns. */
export interface BlockWeights {
  readonly norm1: NormWeight;
  readonly norm2: NormWeight;
  readonly q: LinearWeights;
  readonly k: LinearWeights;
  readonly v: LinearWeights;
  readonly o: LinearWeights;
  readonly gate: LinearWeights;
  readonly up: LinearWeights;
  readonly down: LinearWeights;
  readonly eps: number;
}

/** Widths of a block's activations. */
export interface BlockDims {
  readonly rows: number;
  readonly hidden: number;
  readonly intermediate: number;
  readonly queryHeads: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

/**
 * How a block attends. `S` is what the attention keeps for its backward (log-sum-exp, padded
 * copies). q, k, v, o and their gradients are row tensors [R, heads·headDim].
 */
export interface BlockAttention<S> {
  /** Rotates the heads of `t` in place (the inverse rotation is the backward). */
  readonly rotate: (rec: CommandRecorder, t: Tensor, heads: number, inverse: boolean) => void;
  readonly forward: (
    rec: CommandRecorder,
    arena: Arena,
    t: { readonly q: Tensor; readonly k: Tensor; readonly v: Tensor; readonly o: Tensor },
  ) => S;
  readonly backward: (
    rec: CommandRecorder,
    arena: Arena,
    saved: S,
    t: {
      readonly q: Tensor;
      readonly k: Tensor;
      readonly v: Tensor;
      readonly o: Tensor;
      readonly dO: Tensor;
      readonly dq: Tensor;
      readonly dk: Tensor;
      readonly dv: Tensor;
    },
  ) => void;
}

/** Activations a block keeps for its backward. */
export interface BlockSaved<S> {
  readonly x: Tensor;
  readonly h1: Tensor;
  readonly rstd1: Tensor;
  readonly q: Tensor;
  readonly k: Tensor;
  readonly v: Tensor;
  readonly o: Tensor;
  readonly attention: S;
  readonly x2: Tensor;
  readonly h2: Tensor;
  readonly rstd2: Tensor;
  readonly gate: Tensor;
  readonly up: Tensor;
  readonly act: Tensor;
}

/** Records the block on x [R, hidden]; returns y [R, hidden] and what to save. */
export const blockForward = <S>(
  rec: CommandRecorder,
  arena: Arena,
  w: BlockWeights,
  d: BlockDims,
  attention: BlockAttention<S>,
  x: Tensor,
): { readonly y: Tensor; readonly saved: BlockSaved<S> } => {
  const { rows: R, hidden: H, intermediate: I, headDim: hd } = d;
  const h1 = arena.alloc([R, H]);
  const rstd1 = arena.alloc([R]);
  rmsNormForward(rec, { x, weight: w.norm1.value, y: h1, rstd: rstd1 }, w.eps);
  const q = arena.alloc([R, d.queryHeads * hd]);
  const k = arena.alloc([R, d.kvHeads * hd]);
  const v = arena.alloc([R, d.kvHeads * hd]);
  linearForward(rec, w.q, h1, q);
  linearForward(rec, w.k, h1, k);
  linearForward(rec, w.v, h1, v);
  attention.rotate(rec, q, d.queryHeads, false);
  attention.rotate(rec, k, d.kvHeads, false);
  const o = arena.alloc([R, d.queryHeads * hd]);
  const attentionSaved = attention.forward(rec, arena, { q, k, v, o });
  const attnOut = arena.alloc([R, H]);
  linearForward(rec, w.o, o, attnOut);
  const x2 = arena.alloc([R, H]);
  add(rec, x, attnOut, x2);
  const h2 = arena.alloc([R, H]);
  const rstd2 = arena.alloc([R]);
  rmsNormForward(rec, { x: x2, weight: w.norm2.value, y: h2, rstd: rstd2 }, w.eps);
  const gate = arena.alloc([R, I]);
  const up = arena.alloc([R, I]);
  const act = arena.alloc([R, I]);
  linearForward(rec, w.gate, h2, gate);
  linearForward(rec, w.up, h2, up);
  swigluForward(rec, gate, up, act);
  const mlpOut = arena.alloc([R, H]);
  linearForward(rec, w.down, act, mlpOut);
  const y = arena.alloc([R, H]);
  add(rec, x2, mlpOut, y);
  return {
    y,
    saved: { x, h1, rstd1, q, k, v, o, attention: attentionSaved, x2, h2, rstd2, gate, up, act },
  };
};

/** Records the block's backward for dy [R, hidden]; returns dx [R, hidden]. */
export const blockBackward = <S>(
  rec: CommandRecorder,
  arena: Arena,
  w: BlockWeights,
  d: BlockDims,
  attention: BlockAttention<S>,
  s: BlockSaved<S>,
  dy: Tensor,
): Tensor => {
  const { rows: R, hidden: H, intermediate: I, headDim: hd } = d;
  // MLP branch: y = x2 + down(swiglu(gate(h2), up(h2))).
  const dAct = arena.alloc([R, I]);
  linearBackward(rec, w.down, s.act, dy, dAct);
  const dGate = arena.alloc([R, I]);
  const dUp = arena.alloc([R, I]);
  swigluBackward(rec, s.gate, s.up, dAct, dGate, dUp);
  const dh2 = arena.alloc([R, H]);
  linearBackward(rec, w.gate, s.h2, dGate, dh2);
  linearBackward(rec, w.up, s.h2, dUp, dh2, { accumulateDx: true });
  const dx2Norm = arena.alloc([R, H]);
  rmsNormBackward(rec, arena, {
    x: s.x2,
    weight: w.norm2.value,
    rstd: s.rstd2,
    dy: dh2,
    dx: dx2Norm,
    dweight: w.norm2.grad,
  }, { accumulate: true });
  const dx2 = arena.alloc([R, H]);
  add(rec, dy, dx2Norm, dx2);
  // Attention branch: x2 = x + o_proj(attention(rotate(q), rotate(k), v)).
  const dO = arena.alloc([R, d.queryHeads * hd]);
  linearBackward(rec, w.o, s.o, dx2, dO);
  const dq = arena.alloc([R, d.queryHeads * hd]);
  const dk = arena.alloc([R, d.kvHeads * hd]);
  const dv = arena.alloc([R, d.kvHeads * hd]);
  attention.backward(rec, arena, s.attention, { q: s.q, k: s.k, v: s.v, o: s.o, dO, dq, dk, dv });
  attention.rotate(rec, dq, d.queryHeads, true);
  attention.rotate(rec, dk, d.kvHeads, true);
  const dh1 = arena.alloc([R, H]);
  linearBackward(rec, w.q, s.h1, dq, dh1);
  linearBackward(rec, w.k, s.h1, dk, dh1, { accumulateDx: true });
  linearBackward(rec, w.v, s.h1, dv, dh1, { accumulateDx: true });
  const dxNorm = arena.alloc([R, H]);
  rmsNormBackward(rec, arena, {
    x: s.x,
    weight: w.norm1.value,
    rstd: s.rstd1,
    dy: dh1,
    dx: dxNorm,
    dweight: w.norm1.grad,
  }, { accumulate: true });
  const dx = arena.alloc([R, H]);
  add(rec, dx2, dxNorm, dx);
  return dx;
};
