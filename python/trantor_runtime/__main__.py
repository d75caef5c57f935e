import sys

from .microservice import main

sys.exit(main())
