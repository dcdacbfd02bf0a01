/**
 * `orientation` questions about objects with a visible front (the arrow): where another object is
 * from its point of view, which way it faces in the image, and whether it faces another object.
 *
 * @module
 */
import { cameraBasis } from "../../scene/camera.ts";
import { DEFAULT_RELATION_MARGINS, frontAngle, hasFront } from "../../scene/relations.ts";
import type { PlacedObject } from "../../scene/types.ts";
import {
  type CategoryGenerator,
  nameableObjects,
  objectName,
  type QuestionDraft,
} from "../question.ts";

/** The reference object must cover this fraction of the image for its tip to be readable. */
const MIN_FRONT_AREA = 0.012;

/** Angles within this distance of a sector boundary (multiples of 45°) are ambiguous. */
const SECTOR_MARGIN = 15 * Math.PI / 180;
const QUARTER = Math.PI / 4;

/** Signed angle (radians, −π..π) from the object's front to the horizontal direction (dx, dz), positive to its right. */
const signedAngle = (o: PlacedObject, dx: number, dz: number): number => {
  const fx = Math.sin(o.yaw), fz = Math.cos(o.yaw);
  // The object's right is front × up = (−fz, 0, fx).
  const right = -fz * dx + fx * dz;
  const ahead = fx * dx + fz * dz;
  return Math.atan2(right, ahead);
};

/** Which of four 90° sectors an angle falls in, and its distance to the nearest boundary. */
const sector = (angle: number): { index: 0 | 1 | 2 | 3; slack: number } => {
  const a = Math.abs(angle);
  const slack = Math.abs(a - QUARTER) < Math.abs(a - 3 * QUARTER)
    ? Math.abs(a - QUARTER)
    : Math.abs(a - 3 * QUARTER);
  const index = a < QUARTER ? 0 : a > 3 * QUARTER ? 1 : angle > 0 ? 2 : 3;
  return { index, slack };
};

const PERSPECTIVE = ["in front of it", "behind it", "to its right", "to its left"] as const;
const HEADING = [
  "away from the camera",
  "toward the camera",
  "to the right",
  "to the left",
] as const;

/** Proposes viewpoint, heading and facing questions for each nameable object with a front. */
export const orientationQuestions: CategoryGenerator = (context, rng) => {
  const { scene, truth } = context.rendered;
  const named = nameableObjects(context);
  const out: QuestionDraft[] = [];
  let facingYes = 0, facingNo = 0;
  for (const k of named) {
    const ref = scene.objects[k]!;
    if (!hasFront(ref)) continue;
    const readable = {
      quantity: "image fraction covered by the object with a front",
      value: truth[k]!.visiblePixels / (scene.width * scene.height),
      margin: MIN_FRONT_AREA,
    };
    for (const j of rng.shuffle(named.filter((j) => j !== k))) {
      const other = scene.objects[j]!;
      const dx = other.position[0] - ref.position[0], dz = other.position[2] - ref.position[2];
      const { index, slack } = sector(signedAngle(ref, dx, dz));
      out.push({
        category: "orientation",
        question: rng.next() < 0.5
          ? `From the ${objectName(ref)}'s perspective, where is the ${objectName(other)}?`
          : `If you were the ${objectName(ref)}, where would the ${objectName(other)} be?`,
        correct: PERSPECTIVE[index],
        distractors: PERSPECTIVE.filter((_, s) => s !== index),
        objectIds: [ref.id, other.id],
        evidence: [
          readable,
          { quantity: "angle to sector boundary", value: slack, margin: SECTOR_MARGIN },
        ],
      });
      const angle = frontAngle(ref, other.position);
      const facing = angle <= DEFAULT_RELATION_MARGINS.facingAngle;
      // Most objects are not in front of an arrow's tip: ask "no" as often as "yes" holds.
      if (!facing && facingNo >= facingYes) continue;
      if (facing) facingYes++;
      else facingNo++;
      out.push({
        category: "orientation",
        question: `Is the ${objectName(ref)} facing the ${objectName(other)}?`,
        correct: facing ? "yes" : "no",
        distractors: [facing ? "no" : "yes"],
        objectIds: [ref.id, other.id],
        // "Yes" needs the facing cone, "no" a clear miss (twice the cone).
        evidence: [readable, {
          quantity: "front angle beyond the facing cone",
          value: facing
            ? DEFAULT_RELATION_MARGINS.facingAngle - angle + SECTOR_MARGIN
            : angle - 2 * DEFAULT_RELATION_MARGINS.facingAngle,
          margin: SECTOR_MARGIN,
        }],
      });
    }
    // Heading in the image: the front expressed in the camera's ground-plane axes.
    const { forward, right } = cameraBasis(scene.camera);
    const fx = Math.sin(ref.yaw), fz = Math.cos(ref.yaw);
    // The camera looks down: use the horizontal part of its forward axis, renormalised.
    const flat = Math.hypot(forward[0], forward[2]);
    const along = (fx * forward[0] + fz * forward[2]) / flat;
    const across = fx * right[0] + fz * right[2];
    const { index, slack } = sector(Math.atan2(across, along));
    out.push({
      category: "orientation",
      question: rng.next() < 0.5
        ? `Which way is the ${objectName(ref)} facing?`
        : `In which direction does the ${objectName(ref)} point?`,
      correct: HEADING[index],
      distractors: HEADING.filter((_, s) => s !== index),
      objectIds: [ref.id],
      evidence: [readable, {
        quantity: "angle to sector boundary",
        value: slack,
        margin: SECTOR_MARGIN,
      }],
    });
  }
  return out;
};
