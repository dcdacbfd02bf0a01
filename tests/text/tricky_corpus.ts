/** Strings that exercise every branch of byte-level BPE pre-tokenisation, plus seeded noise. */

/** Hand-picked hard cases: unicode, digits, whitespace runs, code, contractions, specials. */
export const TRICKY_STRINGS: ReadonlyArray<string> = [
  "",
  " ",
  "   ",
  "\n",
  "\n\n\n",
  "\r\n\r\n",
  "\t\t  \t",
  "Hello world",
  "  leading and trailing spaces   ",
  "It's they're we've I'm you'll he'd IT'S THEY'RE I'M",
  "don't   won't  'quoted'  ''",
  "12345678901234567890 3.14159 -42 1e-9 0x1F 1,000,000",
  "日本語のテキストと中文文本 한국어",
  "emoji 🤖👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️",
  "combining e\u0301 vs é, Å vs A\u030a, ﬁ ligature, ① circled",
  "Ελληνικά кириллица עברית العربية हिन्दी ไทย",
  "nbsp\u00a0here, ideographic\u3000space, nel\u0085x, bom\ufeffy, ls\u2028ps\u2029end",
  "function f(x) {\n\treturn x * 2; // double\n}\n\nconst y = f(21);",
  'def main():\n    for i in range(10):\n        print(f"{i:>3}")\n',
  '{"objects":[{"id":"cube.1","bbox":[12,40,58,90]}],"relations":[["cube.1","left of","ball.2"]]}',
  "<observe>a red cube and a blue ball</observe><scene>{}</scene><think>left</think><answer>(B) behind</answer>",
  "https://example.com/path?q=1&r=%20#frag user@example.org",
  "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
  "literal <|im_start|> inside text<|vision_start|><|image_pad|><|image_pad|><|vision_end|>",
  "<|im_start <|im_end| |> <||>",
  "ALLCAPS and MiXeD CaSe and snake_case_name and kebab-case-name",
  "!!!??? ... --- *** ### $$$ %%% ^^^ &&& ((())) [[[]]] {{{}}}",
  "tabs\tbetween\twords and trailing newline\n",
  "a\u200bzero\u200cwidth\u200djoiners",
  "ſ long s, 'ſ, K kelvin, ß sharp s",
];

const POOL = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  ..."     \t\n\r'\".,;:!?-_()[]{}<>/\\|@#$%^&*+=~`",
  ..."éüñçøåß日本中文한🤖👍\u0301\u00a0\u3000\u0085\ufeff\u2028",
  "<|im_start|>",
  "<|im_end|>",
  "<|image_pad|>",
  "'s",
  "'LL",
  "  ",
  "\r\n",
];

/** `count` seeded random strings drawn from a pool of tricky characters and fragments. */
export const randomStrings = (count: number, seed: number): Array<string> => {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const length = Math.floor(next() * 60);
    let text = "";
    for (let i = 0; i < length; i++) text += POOL[Math.floor(next() * POOL.length)]!;
    return text;
  });
};
