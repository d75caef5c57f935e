/**
 * The Kubernetes objects render() makes, as plain JSON-ready values: what the operator applies
 * with server-side apply, and what the golden files show. Only the fields Trantor sets are
 * present, so an apply never claims a field someone else owns (replicas under an autoscaler).
 */
import type { Verbatim } from '../../manifest/index.ts';

/** A manifest or a configuration render() cannot turn into objects; the message says what to change. */
export class RenderError extends Error {
  override name = 'RenderError';
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
}

export interface ObjectMetadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMetadata;
  spec: Verbatim;
}

/** A container as Kubernetes reads it: the fields Trantor sets are typed, the rest pass through. */
export interface ContainerObject extends Verbatim {
  name: string;
}

// A type, not an interface, so that it is also a Verbatim.
export type EnvEntry = { name: string; value: string };

export function isRecord(value: unknown): value is Verbatim {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` when it is a list of mappings, else an empty list. */
export function records(value: unknown): Verbatim[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** The entries of `name → value` as Kubernetes' env list. */
export function envList(values: Readonly<Record<string, string>>): EnvEntry[] {
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}

/**
 * `existing` with each entry of `more` appended unless an existing entry has the same value for one
 * of `keys`: what a user set wins, and no list gets two entries server-side apply would refuse
 * (ports are keyed by number, volume mounts by path).
 */
export function withEntries(existing: unknown, more: readonly Verbatim[], keys: readonly string[] = ['name']): Verbatim[] {
  const list = records(existing);
  const taken = keys.map((key) => new Set<unknown>(list.map((e) => e[key]).filter((v) => v !== undefined)));
  return [...list, ...more.filter((e) => keys.every((key, i) => !taken[i]!.has(e[key])))];
}
