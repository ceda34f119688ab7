import './ripple-app.ts'
