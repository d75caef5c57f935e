/**
 * Manifests from the seeds (the documents the project was made from), exactly as they print them,
 * for the tests that load, apply or read them back. One copy each.
 */

/** The Knative integration page's event-display Deployment and Service (its `name` key mended). */
export const EVENT_DISPLAY_DEPLOYMENT = `# event-display app deploment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: event-display
spec:
  replicas: 1
  selector:
    matchLabels: &labels
      app: event-display
  template:
    metadata:
      labels: *labels
    spec:
      containers:
        - name: helloworld-python
          image: gcr.io/knative-releases/github.com/knative/eventing-sources/cmd/event_display
---
# Service that exposes event-display app.
# This will be the subscriber for the Trigger
kind: Service
apiVersion: v1
metadata:
  name: event-display
spec:
  selector:
    app: event-display
  ports:
    - protocol: TCP
      port: 80
      targetPort: 8080
`;

/** The streaming notebook's SeldonDeployment, with its gs:// modelUri and the eventing annotation. */
export const NOTEBOOK_DEPLOYMENT = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: simple-iris-deployment
  annotations:
    io.seldon.eventing: "enabled"
spec:
  name: simple-iris-spec
  predictors:
  - graph:
      implementation: SKLEARN_SERVER
      modelUri: gs://seldon-models/sklearn/iris
      name: simple-iris-model
      children: []
    name: simple-iris-predictor
    replicas: 1
`;
