/** TRITON_SERVER for ONNX models: a Triton model repository served by ONNX Runtime in the Node host. */
export { TritonOnnxServer } from './server.ts';
export { parseModelConfig, type ModelConfig, type TensorConfig, type VersionPolicy } from './config.ts';
export { locateTritonModel, ONNX_PLATFORM, type RepositoryModel } from './repository.ts';
