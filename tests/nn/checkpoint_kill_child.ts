/** Child process for the SIGKILL test: saves one checkpoint to the folder given as argument. */
import { Effect } from "effect";
import { saveCheckpoint } from "../../src/nn/checkpoint.ts";
import { tinyModelCheckpoint, tinyTrainingCheckpoint } from "./checkpoint_fixture.ts";

const [dir] = Deno.args;
if (dir === undefined) throw new Error("usage: checkpoint_kill_child.ts DIR");
const model = tinyModelCheckpoint(2);
const training = tinyTrainingCheckpoint(2);
console.log("saving");
await Effect.runPromise(saveCheckpoint(dir, model, training));
console.log("saved");
