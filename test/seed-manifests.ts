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

/** The install guide's SeldonDeployment (its Korean comment kept): SKLEARN_SERVER with a gs:// modelUri, in namespace seldon. */
export const IRIS_MODEL_DEPLOYMENT = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: iris-model
  namespace: seldon
spec:
  name: iris
  predictors:
  - graph:
      implementation: SKLEARN_SERVER # seldon core에서 sklearn용으로 pre-package된 model server
      modelUri: gs://seldon-models/v1.11.0-dev/sklearn/iris
      name: classifier
    name: default
    replicas: 1
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

/** The streaming notebook's `seldon-knative-trigger.yaml` as it prints it (its leading blank line kept): `ref` lost its `subscriber:` line and its indent. */
export const NOTEBOOK_TRIGGER_AS_PRINTED = `
apiVersion: eventing.knative.dev/v1beta1
kind: Trigger
metadata:
  name: seldon-eventing-sklearn-trigger
spec:
  broker: default
  filter:
    attributes:
      type: io.seldon.eventing.request
   ref:
     apiVersion: v1
     kind: SeldonDeployment
     name: simple-iris-deployment
`;

/** The same Trigger mended: `subscriber:` restored above `ref`, which moves under it. */
export const NOTEBOOK_TRIGGER = NOTEBOOK_TRIGGER_AS_PRINTED.replace('\n   ref:\n', '\n  subscriber:\n    ref:\n').replace(/^ {5}(?=\S)/gm, '      ');

/** The notebook's `event-display-trigger.yaml` (v1alpha1, Seldon's response type and source). */
export const NOTEBOOK_EVENT_DISPLAY_TRIGGER = `
# Trigger to send events to service above
apiVersion: eventing.knative.dev/v1alpha1
kind: Trigger
metadata:
  name: event-display
spec:
  broker: default
  filter:
    attributes:
      type: io.seldon.eventing.response
      source: io.seldon.eventing.seldondeployment
  subscriber:
    ref:
      apiVersion: v1
      kind: Service
      name: event-display
`;

/** The Knative integration page's Trigger for `iris-deployment` (v1, a SeldonDeployment ref). */
export const IRIS_TRIGGER = `
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: seldon-eventing-sklearn-trigger
spec:
  broker: default
  filter:
    attributes:
      type: seldon.iris-deployment.default.request
  subscriber:
    ref:
      apiVersion: machinelearning.seldon.io/v1
      kind: SeldonDeployment
      name: iris-deployment
`;

/** The integration page's Trigger overriding the URI (its `predicions` typo kept). */
export const IRIS_URI_TRIGGER = `
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: seldon-eventing-sklearn-trigger
spec:
  broker: default
  filter:
    attributes:
      type: seldon.iris-deployment.default.request
  subscriber:
    uri: http://istio-ingressgateway/seldon/default/iris-deployment/api/v1.0/predicions
`;

/** The integration page's event-display Trigger and Deployment as printed: the Deployment's `name` key split over two lines. */
export const EVENT_DISPLAY_AS_PRINTED = `---
# Trigger to send events to service above
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: event-display
spec:
  broker: default
  filter:
    attributes:
      type: seldon.iris-deployment.default.response
      source: seldon.iris-deployment
  subscriber:
    ref:
      apiVersion: v1
      kind: Service
      name: event-display
---
# event-display app deploment
apiVersion: apps/v1
kind: Deployment
metadata:
  n
  ame: event-display
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
`;
