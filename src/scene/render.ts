/**
 * The WebGPU scene renderer. A batch of scenes is drawn into tiles of one atlas texture in a
 * single command encoder: the main pass writes Lambert-shaded colour (rgba8unorm) and object ids
 * (r32uint) with a depth test; the silhouette pass counts each object's unoccluded pixels. One
 * submit and one readback per batch (a readback costs ≥ 10 ms in Deno).
 *
 * @module
 */
import { Context, Effect, Layer } from "effect";
import { Gpu } from "../gpu/gpu.ts";
import { GpuDeviceLost } from "../gpu/errors.ts";
import { modelMatrix, multiply, viewProjection } from "./camera.ts";
import { groundMesh, shapeMeshes, VERTEX_FLOATS } from "./mesh.ts";
import { measureTruth } from "./truth.ts";
import { COLOURS, type RenderedScene, type Scene, type Shape, SHAPES } from "./types.ts";

/** Most objects one scene may hold (size of its block of silhouette counters). */
export const MAX_OBJECTS_PER_SCENE = 16;
/** Largest atlas side we allocate, well inside every adapter's `maxTextureDimension2D`. */
const MAX_ATLAS_SIDE = 4096;
/** Floats per instance record; matches `struct Instance` in kernels/scene_render.wgsl. */
const INSTANCE_FLOATS = 52;
const SKY = { r: 0.78, g: 0.84, b: 0.9, a: 1 };
const GROUND_HALF_EXTENT = 40;

const align = (n: number, to: number): number => Math.ceil(n / to) * to;

const loadKernel = (name: string): string =>
  Deno.readTextFileSync(new URL(`../../kernels/${name}`, import.meta.url));

/** What the renderer offers. */
export interface SceneRendererShape {
  /**
   * Renders scenes that share one image size. The result keeps the input order; large batches are
   * split so that every atlas fits the device.
   */
  readonly render: (
    scenes: ReadonlyArray<Scene>,
  ) => Effect.Effect<RenderedScene[], GpuDeviceLost>;
}

interface MeshRange {
  readonly first: number;
  readonly count: number;
}

/** Writes the instance records of one scene (ground first) and returns how many were written. */
const writeInstances = (
  floats: Float32Array,
  words: Uint32Array,
  firstInstance: number,
  scene: Scene,
  counterBase: number,
): number => {
  const vp = viewProjection(scene.camera, scene.width / scene.height);
  const put = (
    k: number,
    model: Float64Array,
    normal: readonly number[],
    colour: readonly number[],
    tags: readonly number[],
  ) => {
    const o = (firstInstance + k) * INSTANCE_FLOATS;
    floats.set(multiply(vp, model), o);
    floats.set(model, o + 16);
    floats.set(normal, o + 32);
    floats.set(colour, o + 44);
    words.set(tags, o + 48);
  };
  const identity = Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  put(0, identity, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 1, 0]);
  scene.objects.forEach((object, k) => {
    // Normal matrix of R·S is R·S⁻¹ (columns padded to vec4 as WGSL's mat3x3 expects).
    const c = Math.cos(object.yaw), s = Math.sin(object.yaw);
    const [sx, sy, sz] = object.size;
    const normal = [c / sx, 0, -s / sx, 0, 0, 1 / sy, 0, 0, s / sz, 0, c / sz, 0];
    put(k + 1, modelMatrix(object), normal, [...COLOURS[object.colour], 1], [
      k + 1,
      counterBase + k,
      0,
      0,
    ]);
  });
  return scene.objects.length + 1;
};

const makeRenderer = Effect.gen(function* () {
  const { device } = yield* Gpu;
  const meshes = shapeMeshes();
  const parts: Array<readonly [Shape | "ground", Float32Array<ArrayBuffer>]> = [
    ["ground", groundMesh(GROUND_HALF_EXTENT)],
    ...SHAPES.map((shape) => [shape, meshes[shape]] as const),
  ];
  const ranges = new Map<Shape | "ground", MeshRange>();
  let vertexCount = 0;
  for (const [name, data] of parts) {
    const count = data.length / VERTEX_FLOATS;
    ranges.set(name, { first: vertexCount, count });
    vertexCount += count;
  }
  const vertexBuffer = device.createBuffer({
    size: vertexCount * VERTEX_FLOATS * 4,
    usage: GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_DST,
  });
  let offset = 0;
  for (const [, data] of parts) {
    device.queue.writeBuffer(vertexBuffer, offset, data);
    offset += data.byteLength;
  }
  const vertexLayout: GPUVertexBufferLayout = {
    arrayStride: VERTEX_FLOATS * 4,
    attributes: [
      { shaderLocation: 0, offset: 0, format: "float32x3" },
      { shaderLocation: 1, offset: 12, format: "float32x3" },
    ],
  };
  device.pushErrorScope("validation");
  const renderModule = device.createShaderModule({ code: loadKernel("scene_render.wgsl") });
  const mainPipeline = device.createRenderPipeline({
    layout: "auto",
    vertex: { module: renderModule, entryPoint: "vs_main", buffers: [vertexLayout] },
    fragment: {
      module: renderModule,
      entryPoint: "fs_main",
      targets: [{ format: "rgba8unorm" }, { format: "r32uint" }],
    },
    primitive: { topology: "triangle-list", cullMode: "back", frontFace: "ccw" },
    depthStencil: { format: "depth32float", depthWriteEnabled: true, depthCompare: "less" },
  });
  const silhouetteModule = device.createShaderModule({ code: loadKernel("scene_silhouette.wgsl") });
  const silhouettePipeline = device.createRenderPipeline({
    layout: "auto",
    vertex: {
      module: silhouetteModule,
      entryPoint: "vs_main",
      buffers: [{ ...vertexLayout, attributes: [vertexLayout.attributes[0]!] }],
    },
    fragment: { module: silhouetteModule, entryPoint: "fs_main", targets: [] },
    primitive: { topology: "triangle-list", cullMode: "back", frontFace: "ccw" },
    depthStencil: { format: "depth32float", depthWriteEnabled: false, depthCompare: "always" },
  });
  const pipelineError = yield* Effect.promise(() => device.popErrorScope());
  if (pipelineError !== null) {
    return yield* Effect.die(new Error(`scene pipelines invalid: ${pipelineError.message}`));
  }

  const renderAtlas = (scenes: ReadonlyArray<Scene>) =>
    Effect.gen(function* () {
      const { width, height } = scenes[0]!;
      const cols = Math.ceil(Math.sqrt(scenes.length));
      const rows = Math.ceil(scenes.length / cols);
      const atlasWidth = cols * width, atlasHeight = rows * height;
      const instanceCount = scenes.reduce((n, s) => n + s.objects.length + 1, 0);
      const floats = new Float32Array(instanceCount * INSTANCE_FLOATS);
      const words = new Uint32Array(floats.buffer);
      const firstInstances: number[] = [];
      let next = 0;
      scenes.forEach((scene, i) => {
        if (scene.objects.length > MAX_OBJECTS_PER_SCENE) {
          throw new RangeError(
            `scene ${scene.index} has more than ${MAX_OBJECTS_PER_SCENE} objects`,
          );
        }
        firstInstances.push(next);
        next += writeInstances(floats, words, next, scene, i * MAX_OBJECTS_PER_SCENE);
      });
      const instanceBuffer = device.createBuffer({
        size: floats.byteLength,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(instanceBuffer, 0, floats);
      const countsBytes = scenes.length * MAX_OBJECTS_PER_SCENE * 4;
      const countsBuffer = device.createBuffer({
        size: countsBytes,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      });
      const texture = (format: GPUTextureFormat, copy: boolean) =>
        device.createTexture({
          size: [atlasWidth, atlasHeight],
          format,
          usage: GPUTextureUsage.RENDER_ATTACHMENT | (copy ? GPUTextureUsage.COPY_SRC : 0),
        });
      const colour = texture("rgba8unorm", true);
      const ids = texture("r32uint", true);
      const depth = texture("depth32float", false);
      const bytesPerRow = align(atlasWidth * 4, 256);
      const imageBytes = bytesPerRow * atlasHeight;
      const readback = device.createBuffer({
        size: 2 * imageBytes + countsBytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });

      const encoder = device.createCommandEncoder();
      const tile = (pass: GPURenderPassEncoder, i: number) => {
        const x = (i % cols) * width, y = Math.floor(i / cols) * height;
        pass.setViewport(x, y, width, height, 0, 1);
        pass.setScissorRect(x, y, width, height);
      };
      const main = encoder.beginRenderPass({
        colorAttachments: [
          { view: colour.createView(), clearValue: SKY, loadOp: "clear", storeOp: "store" },
          { view: ids.createView(), clearValue: [0, 0, 0, 0], loadOp: "clear", storeOp: "store" },
        ],
        depthStencilAttachment: {
          view: depth.createView(),
          depthClearValue: 1,
          depthLoadOp: "clear",
          depthStoreOp: "discard",
        },
      });
      main.setPipeline(mainPipeline);
      main.setVertexBuffer(0, vertexBuffer);
      main.setBindGroup(
        0,
        device.createBindGroup({
          layout: mainPipeline.getBindGroupLayout(0),
          entries: [{ binding: 0, resource: { buffer: instanceBuffer } }],
        }),
      );
      scenes.forEach((scene, i) => {
        tile(main, i);
        const ground = ranges.get("ground")!;
        main.draw(ground.count, 1, ground.first, firstInstances[i]!);
        scene.objects.forEach((object, k) => {
          const mesh = ranges.get(object.shape)!;
          main.draw(mesh.count, 1, mesh.first, firstInstances[i]! + k + 1);
        });
      });
      main.end();
      const silhouettes = encoder.beginRenderPass({
        colorAttachments: [],
        depthStencilAttachment: {
          view: depth.createView(),
          depthClearValue: 1,
          depthLoadOp: "clear",
          depthStoreOp: "discard",
        },
      });
      silhouettes.setPipeline(silhouettePipeline);
      silhouettes.setVertexBuffer(0, vertexBuffer);
      silhouettes.setBindGroup(
        0,
        device.createBindGroup({
          layout: silhouettePipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: instanceBuffer } },
            { binding: 1, resource: { buffer: countsBuffer } },
          ],
        }),
      );
      scenes.forEach((scene, i) => {
        tile(silhouettes, i);
        scene.objects.forEach((object, k) => {
          const mesh = ranges.get(object.shape)!;
          silhouettes.draw(mesh.count, 1, mesh.first, firstInstances[i]! + k + 1);
        });
      });
      silhouettes.end();
      for (const [k, source] of [colour, ids].entries()) {
        encoder.copyTextureToBuffer(
          { texture: source },
          { buffer: readback, offset: k * imageBytes, bytesPerRow, rowsPerImage: atlasHeight },
          [atlasWidth, atlasHeight],
        );
      }
      encoder.copyBufferToBuffer(countsBuffer, 0, readback, 2 * imageBytes, countsBytes);
      device.queue.submit([encoder.finish()]);

      const release = () => {
        for (const resource of [instanceBuffer, countsBuffer, readback, colour, ids, depth]) {
          resource.destroy();
        }
      };
      yield* Effect.tryPromise({
        try: () => readback.mapAsync(GPUMapMode.READ),
        catch: (cause) =>
          new GpuDeviceLost({ reason: "scene readback failed", detail: String(cause) }),
      }).pipe(Effect.onError(() => Effect.sync(release)));
      const mapped = new Uint8Array(readback.getMappedRange().slice(0));
      readback.unmap();
      release();

      const idWords = new Uint32Array(mapped.buffer, imageBytes, imageBytes / 4);
      const counts = new Uint32Array(mapped.buffer, 2 * imageBytes, countsBytes / 4);
      return scenes.map((scene, i): RenderedScene => {
        const x0 = (i % cols) * width, y0 = Math.floor(i / cols) * height;
        const rgba = new Uint8Array(width * height * 4);
        const sceneIds = new Uint32Array(width * height);
        for (let y = 0; y < height; y++) {
          const row = (y0 + y) * bytesPerRow + x0 * 4;
          rgba.set(mapped.subarray(row, row + width * 4), y * width * 4);
          sceneIds.set(idWords.subarray(row / 4, row / 4 + width), y * width);
        }
        const silhouette = counts.subarray(
          i * MAX_OBJECTS_PER_SCENE,
          i * MAX_OBJECTS_PER_SCENE + scene.objects.length,
        );
        return { scene, rgba, ids: sceneIds, truth: measureTruth(scene, sceneIds, silhouette) };
      });
    });

  const render = Effect.fn("SceneRenderer.render")(function* (scenes: ReadonlyArray<Scene>) {
    if (scenes.length === 0) return [];
    const { width, height } = scenes[0]!;
    if (scenes.some((s) => s.width !== width || s.height !== height)) {
      throw new RangeError("SceneRenderer.render: all scenes of a batch must share one image size");
    }
    const perSide = Math.max(1, Math.floor(MAX_ATLAS_SIDE / Math.max(width, height)));
    const perAtlas = perSide * perSide;
    const out: RenderedScene[] = [];
    for (let start = 0; start < scenes.length; start += perAtlas) {
      out.push(...(yield* renderAtlas(scenes.slice(start, start + perAtlas))));
    }
    return out;
  });

  return { render } satisfies SceneRendererShape;
});

/**
 * Renders sampled scenes on the WebGPU device to RGBA images plus per-object truth.
 *
 * @example Render one scene
 * ```ts
 * import { Effect, Layer } from "effect";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { makeRng } from "../domain/random.ts";
 * import { SceneRenderer } from "./render.ts";
 * import { sampleScene } from "./sampler.ts";
 *
 * const program = Effect.gen(function* () {
 *   const renderer = yield* SceneRenderer;
 *   const [rendered] = yield* renderer.render([sampleScene(makeRng(3), 0)]);
 *   return rendered!.truth.length;
 * });
 * const layer = SceneRenderer.layer.pipe(Layer.provide(Gpu.layer));
 * const objects = await Effect.runPromise(Effect.provide(program, layer));
 * if (objects < 3) throw new Error("expected at least three objects");
 * ```
 */
export class SceneRenderer extends Context.Service<SceneRenderer, SceneRendererShape>()(
  "spatial-thinker/scene/SceneRenderer",
) {
  /** Builds the pipelines and mesh buffer once; needs `Gpu`. */
  static readonly layer: Layer.Layer<SceneRenderer, never, Gpu> = Layer.effect(
    SceneRenderer,
    makeRenderer,
  );
}
