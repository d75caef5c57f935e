export { OnnxModel, type OnnxModelOptions } from './model.ts';
export { elementCount, type OnnxElementType, type OnnxTensor, type OnnxTensorData, type OnnxValueInfo } from './tensor.ts';
