"""Ready-made routers, served like any user class:
``seldon-core-microservice trantor_runtime.routers.<module>.<Class> --service-type ROUTER``."""
