/**
 * The operator's named options (docs/kubernetes.md, "Operator"): its watches, queue and requests,
 * with each default here and nowhere else. `trantor operator --set operator.<name>=<value>`
 * compiles them once; the parts take the values in their constructors.
 */
import { defineOptions, type OptionValues } from '../../options/index.ts';

export const operatorOptions = defineOptions('operator', {
  watchTimeout: { kind: 'duration', default: 300_000, min: 1000, doc: 'how long the API server keeps one watch open before the operator opens the next from where it was' },
  watchdog: { kind: 'duration', default: 360_000, min: 1000, doc: 'a watch that hears nothing, not even a bookmark, for this long is cut and opened again' },
  relist: { kind: 'duration', default: 1_800_000, min: 1000, doc: 'how often each watched kind is listed whole again, so a missed event costs at most this long' },
  resync: { kind: 'duration', default: 600_000, min: 1000, doc: 'how often every SeldonDeployment is reconciled again though nothing changed' },
  retry: { kind: 'duration', default: 1000, doc: 'the wait after a failed list or watch before trying again' },
  backoff: { kind: 'duration', default: 1000, doc: 'the first wait before a failed reconcile is tried again; it doubles each time' },
  backoffMax: { kind: 'duration', default: 300_000, doc: 'the longest wait before a failed reconcile is tried again' },
  kindRetry: { kind: 'duration', default: 60_000, min: 1000, doc: 'how often a kind of child the API server does not serve (the KEDA, Istio, Ambassador or Gateway API CRD not installed) is looked for again' },
  workers: { kind: 'count', default: 16, doc: 'SeldonDeployments reconciled at the same time (one is never reconciled twice at once)' },
  leaseDuration: { kind: 'duration', default: 15_000, min: 1000, doc: 'with --leader-elect: how long a Lease not renewed keeps other replicas from taking it' },
  renewDeadline: { kind: 'duration', default: 10_000, min: 1000, doc: 'with --leader-elect: a leader that could not renew its Lease for this long stops (and exits)' },
  leaseRetry: { kind: 'duration', default: 2000, min: 100, doc: 'with --leader-elect: how often the Lease is renewed, or tried by a replica that waits' },
  requestTimeout: { kind: 'duration', default: 30_000, doc: 'how long one request to the API server (not a watch) may take' },
  webhookBodyLimit: { kind: 'size', default: 4 * 2 ** 20, min: 1024, doc: 'the largest AdmissionReview the webhook reads (an update carries the old and the new object); a larger one is answered 413' },
  webhookTimeout: { kind: 'duration', default: 30_000, doc: 'how long the webhook waits for a review to arrive whole before it closes the connection' },
  certRefresh: { kind: 'duration', default: 60_000, min: 100, doc: "how often the webhook's certificate is checked (the Secret, or the cert-manager files) and reloaded if it changed" },
  certValidity: { kind: 'duration', default: 8760 * 3_600_000, min: 60_000, doc: 'with --webhook-certs=self: how long a serving certificate is valid; a new one is issued when a third of it is left' },
  caValidity: { kind: 'duration', default: 87_600 * 3_600_000, min: 60_000, doc: 'with --webhook-certs=self: how long the CA is valid; a new CA is made when a third of it is left, the old one trusted until it expires' },
  eventLoopStall: { kind: 'duration', default: 10_000, min: 100, doc: '/healthz fails when the event loop has not turned for this long' },
});

export type OperatorOptions = OptionValues<typeof operatorOptions.table>;
