/** The routing core: pure decisions for requests that name neither a version nor a label. */
export { route, type RouteContext, type RouteDecision, type RouteFallback, type RouteRule } from './route.js';
export { shadowDecision, type ShadowContext } from './shadow-decision.js';
export { compareOutputs, type OutputComparison } from './compare-outputs.js';
export { routingProblems } from './routing-problems.js';
export { keyUniform, rendezvousPick, weightedRandomPick, type WeightedChoice } from './rendezvous.js';
export { seededRandom } from './seeded-random.js';
