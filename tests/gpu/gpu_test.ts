import assert from "node:assert/strict";
import { Effect } from "effect";
import { Gpu } from "../../src/gpu/gpu.ts";
import { GpuUnavailable } from "../../src/gpu/errors.ts";

Deno.test("Gpu.layer gives a device with the adapter's storage binding limit", async () => {
  const result = await Effect.runPromise(
    Effect.gen(function* () {
      const gpu = yield* Gpu;
      return { limit: gpu.device.limits.maxStorageBufferBindingSize, gpu };
    }).pipe(Effect.provide(Gpu.layer)),
  );
  assert.ok(result.limit >= 128 * 1024 * 1024);
  assert.ok(result.gpu.adapterDescription.length > 0);
});

Deno.test("Gpu.layer destroys the device when its scope closes", async () => {
  const device = await Effect.runPromise(
    Gpu.useSync((gpu) => gpu.device).pipe(Effect.provide(Gpu.layer)),
  );
  const info = await device.lost;
  assert.equal(info.reason, "destroyed");
});

Deno.test("GpuUnavailable names the command that installs lavapipe", () => {
  const error = new GpuUnavailable({ reason: "requestAdapter() returned null" });
  assert.match(error.message, /apt-get install -y mesa-vulkan-drivers libvulkan1/);
  assert.equal(error._tag, "GpuUnavailable");
});
