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

/** `existing` with each entry of `more` whose name it lacks appended: what a user set wins. */
export function withEntries(existing: unknown, more: readonly Verbatim[]): Verbatim[] {
  const list = records(existing);
  const names = new Set(list.map((e) => e['name']));
  return [...list, ...more.filter((e) => !names.has(e['name']))];
}
