import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { locateTritonModel } from './repository.ts';

const root = mkdtempSync(join(tmpdir(), 'triton-repo-'));
after(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
/** A repository from `files` (path → text); folders are made as needed. */
function repository(files: Record<string, string>): string {
  const dir = join(root, `r${count++}`);
  mkdirSync(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const ONNX = 'not read here';

describe('a Triton model repository', () => {
  it('serves the only model, its highest version by default, with or without a config', () => {
    const repo = repository({ 'm/config.pbtxt': 'platform: "onnxruntime_onnx"', 'm/1/model.onnx': ONNX, 'm/3/model.onnx': ONNX, 'm/2/model.onnx': ONNX, 'm/notes/x': '' });
    const model = locateTritonModel(repo);
    assert.equal(model.name, 'm');
    assert.deepEqual(model.versions, [{ version: 3, file: join(repo, 'm', '3', 'model.onnx') }]);
    assert.equal(model.config?.platform, 'onnxruntime_onnx');
    const bare = locateTritonModel(repository({ 'only/7/model.onnx': ONNX }));
    assert.equal(bare.config, undefined);
    assert.deepEqual(bare.versions.map((v) => v.version), [7]);
  });

  it('follows version_policy and default_model_filename', () => {
    const files = { 'm/1/x.onnx': ONNX, 'm/2/x.onnx': ONNX, 'm/10/x.onnx': ONNX };
    const policy = (text: string): number[] => locateTritonModel(repository({ ...files, 'm/config.pbtxt': `default_model_filename: "x.onnx" ${text}` })).versions.map((v) => v.version);
    assert.deepEqual(policy(''), [10]);
    assert.deepEqual(policy('version_policy { latest { num_versions: 2 } }'), [2, 10]);
    assert.deepEqual(policy('version_policy { all { } }'), [1, 2, 10]);
    assert.deepEqual(policy('version_policy { specific { versions: [ 2, 1 ] } }'), [1, 2]);
    assert.throws(() => policy('version_policy { specific { versions: [ 4 ] } }'), /version_policy\.specific\.versions names 4, which .* does not hold \(its versions: 1, 2, 10\)/);
  });

  it('picks the model the model_name parameter names, and lists the models when it must choose', () => {
    const repo = repository({ 'a/1/model.onnx': ONNX, 'b/1/model.onnx': ONNX });
    assert.equal(locateTritonModel(repo, 'b').name, 'b');
    assert.throws(() => locateTritonModel(repo), /holds 2 models \(a, b\); name the one to serve with the parameter model_name/);
    assert.throws(() => locateTritonModel(repo, 'c'), /parameter model_name "c": .* has no model of that name \(its models: a, b\)/);
  });

  it('says what is wrong with the layout', () => {
    assert.throws(() => locateTritonModel(join(root, 'absent')), /the Triton model repository .*absent is not a folder/);
    assert.throws(() => locateTritonModel(repository({ 'README.md': '' })), /holds no model: expected <model>\/config\.pbtxt and <model>\/1\/model\.onnx/);
    assert.throws(() => locateTritonModel(repository({ 'm/config.pbtxt': '' })), /has no version folder: put the model at .*m\/1\/model\.onnx/);
    assert.throws(() => locateTritonModel(repository({ 'm/1/model.pt': '' })), /version 1 has no model\.onnx \(.* holds model\.pt\)/);
    assert.throws(() => locateTritonModel(repository({ 'm/config.pbtxt': 'name: "n"', 'm/1/model.onnx': ONNX })), /name "n" differs from its folder's name "m"/);
  });

  it('refuses a platform other than ONNX Runtime, naming it and what to do', () => {
    for (const [text, named] of [
      ['platform: "tensorflow_savedmodel"', 'platform "tensorflow_savedmodel"'],
      ['backend: "python"', 'backend "python"'],
      ['platform: "pytorch_libtorch"', 'platform "pytorch_libtorch"'],
    ] as const) {
      assert.throws(
        () => locateTritonModel(repository({ 'm/config.pbtxt': text, 'm/1/model.onnx': ONNX })),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'NOT_SUPPORTED');
          assert.ok(err.message.includes(named), err.message);
          assert.match(err.message, /ONNX models .* only; export the model to ONNX, or deploy it to Kubernetes/);
          return true;
        },
      );
    }
    assert.equal(locateTritonModel(repository({ 'm/config.pbtxt': 'backend: "onnxruntime"', 'm/1/model.onnx': ONNX })).name, 'm');
  });
});
