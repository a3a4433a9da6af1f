/**
 * Deterministic synthetic members with BG/NBD-like purchase behaviour: each member has a
 * purchase rate λ ~ Gamma and a dropout probability p ~ Beta after every purchase, and a
 * personal mean spend ~ Gamma; join dates spread over two years.
 */
const DAY = 86_400_000;
const firstNames = [
  "Ana",
  "Ben",
  "Chloé",
  "Daniel",
  "Eva",
  "Felix",
  "Grace",
  "Hiro",
  "Inès",
  "Jonas",
  "Kim",
  "Lena",
  "Mateo",
  "Nora",
  "Omar",
  "Priya",
  "Quinn",
  "Rosa",
  "Sam",
  "Tomás",
  "Uma",
  "Victor",
  "Wei",
  "Yara",
  "Zoe",
];
const lastNames = ["Silva", "Müller", "Rossi", "Dubois", "Kowalski", "Tanaka", "Chen", "Garcia", "Smith", "Novak", "Olsen", "Haddad"];
const channels = ["web", "app", "store"];
const acquisition = ["organic", "search", "social", "referral", "store"];
const tagPool = ["newsletter", "vip", "eco", "sports", "family"];

function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32: fast, deterministic, good enough for demo data.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
}

function gamma(rand: () => number, shape: number, scale: number): number {
  // Marsaglia–Tsang, with the shape < 1 boost.
  if (shape < 1) return gamma(rand, shape + 1, scale) * rand() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      const u1 = rand();
      const u2 = rand();
      x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rand();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * scale;
  }
}

const beta = (rand: () => number, a: number, b: number) => {
  const x = gamma(rand, a, 1);
  return x / (x + gamma(rand, b, 1));
};

export type SimulatedChunk = { offset: number; members: Record<string, unknown>[]; transactions: Record<string, unknown>[] };

export function* simulateMembers(opts: { count: number; seed: number; now: Date; chunk: number }): Generator<SimulatedChunk> {
  const end = opts.now.getTime();
  const start = end - 730 * DAY;
  for (let offset = 0; offset < opts.count; offset += opts.chunk) {
    const members: Record<string, unknown>[] = [];
    const transactions: Record<string, unknown>[] = [];
    for (let i = offset; i < Math.min(opts.count, offset + opts.chunk); i++) {
      // One generator per member: member i is the same whatever the chunk size or count.
      const rand = prng(opts.seed * 1_000_003 + i * 7919);
      const externalId = `demo-${String(i).padStart(7, "0")}`;
      const joined = start + rand() * (end - start - DAY);
      const first = firstNames[Math.floor(rand() * firstNames.length)];
      const last = lastNames[Math.floor(rand() * lastNames.length)];
      const month = 1 + Math.floor(rand() * 12);
      const day = 1 + Math.floor(rand() * 28);
      members.push({
        externalId,
        name: `${first} ${last}`,
        email: `${first
          .normalize("NFD")
          .replace(/[^a-zA-Z]/g, "")
          .toLowerCase()}.${i}@example.com`,
        birthday: `${1960 + Math.floor(rand() * 45)}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`,
        tags: tagPool.filter(() => rand() < 0.15),
        acquisitionChannel: acquisition[Math.floor(rand() * acquisition.length)],
        joinedAt: new Date(joined).toISOString(),
        consentEmail: rand() < 0.7,
        consentSms: rand() < 0.4,
      });
      const lambda = gamma(rand, 0.9, 1 / 45); // purchases per day
      const dropout = beta(rand, 1.2, 5);
      const meanSpend = gamma(rand, 4, 1500); // ≈ 60.00 on average
      const channel = channels[Math.floor(rand() * channels.length)];
      let t = joined + (rand() < 0.8 ? rand() * DAY : gamma(rand, 1, 1 / lambda) * DAY);
      let n = 0;
      while (t < end && n < 200) {
        const amount = Math.max(199, Math.round(gamma(rand, 6, meanSpend / 6)));
        transactions.push({
          externalId,
          orderId: `${externalId}-${n}`,
          amount,
          currency: "USD",
          occurredAt: new Date(t).toISOString(),
          channel: rand() < 0.8 ? channel : channels[Math.floor(rand() * 3)],
        });
        n++;
        if (rand() < dropout) break;
        t += Math.max(0.5, gamma(rand, 1, 1 / lambda)) * DAY;
      }
    }
    yield { offset, members, transactions };
  }
}
